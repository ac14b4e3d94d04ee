import { newId } from "../ids.js";
import { queuedJob } from "../job.js";
import type { NewJob, SubmitLimits } from "../ports/job-store.js";

/** Generous caps for tests that do not test caps. */
export const OPEN_LIMITS: SubmitLimits = {
  maxQueuedPerOwner: 1_000_000,
  maxActivePerOwner: 1_000_000,
  maxQueueSize: 1_000_000,
};

/** A fresh queue name, so tests sharing a store never meet. */
export function uniqueQueue(prefix = "q"): string {
  return `${prefix}-${newId().slice(0, 12)}`;
}

/** A queued job ready for a job store's `submit`. */
export function newJob(
  queue: string,
  now: number,
  overrides: Partial<NewJob> = {},
): NewJob {
  return {
    ...queuedJob({
      queue,
      owner: "alice",
      conversationId: "conv-1",
      messageId: null,
      request: {
        prompt: "a lighthouse at dusk",
        negativePrompt: "",
        width: 512,
        height: 512,
        steps: 20,
        cfgScale: 7,
        seed: 42,
        batchSize: 1,
      },
      priority: 0,
      maxAttempts: 2,
      retryOf: null,
      now,
    }),
    ...overrides,
  };
}
