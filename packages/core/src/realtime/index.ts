export * from "./client-message.js";
export * from "./gateway-transport.js";
export * from "./in-process-sockets.js";
export * from "./protocol-version.js";
export * from "./realtime-gateway.js";
export * from "./server-message.js";
export * from "./web-socket-like.js";
