export * from "./serve-web-socket-server.js";
export * from "./fs-image-store.js";
