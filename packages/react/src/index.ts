export * from "./image-job-card.js";
export * from "./image-jobs-provider.js";
export * from "./use-connection-status.js";
export * from "./use-conversation-image-jobs.js";
export * from "./use-image-job.js";
export * from "./use-mutation-store.js";
export * from "./use-submit-image-job.js";
