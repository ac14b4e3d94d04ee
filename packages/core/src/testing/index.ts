export * from "./fake-clock.js";
export * from "./scripted-gpu-backend.js";
