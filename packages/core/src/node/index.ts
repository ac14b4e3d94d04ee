export * from "./serve-web-socket-server.js";
