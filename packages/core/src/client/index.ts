export * from "./backoff.js";
export * from "./client-state.js";
export * from "./create-submit-mutation.js";
export * from "./image-job-client.js";
export * from "./image-job-mutation.js";
