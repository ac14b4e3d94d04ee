export * from "./fs-image-store.js";
export * from "./serve-web-socket-server.js";
