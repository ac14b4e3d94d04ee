export * from "./conformance.js";
export * from "./fake-clock.js";
export * from "./fixtures.js";
export * from "./harness.js";
export * from "./memory-stores.js";
export * from "./scenario-conformance.js";
export * from "./scripted-gpu-backend.js";
export * from "./store-conformance.js";
