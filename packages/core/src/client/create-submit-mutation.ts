import type { JobSnapshot, SubmitJobInput } from "../service.js";
import type { ImageJobClient } from "./image-job-client.js";
import { ImageJobMutation } from "./image-job-mutation.js";

/**
 * A submit mutation whose idempotency key stays the same while the input
 * does: a double click makes one job. A different input, or `reset()`,
 * takes a new key; an input's own `idempotencyKey` always wins.
 */
export function createSubmitMutation(
  client: ImageJobClient,
  makeKey: () => string = randomKey,
): ImageJobMutation<SubmitJobInput, JobSnapshot> {
  let last: { input: string; key: string } | null = null;
  const mutation = new ImageJobMutation<SubmitJobInput, JobSnapshot>(
    (input) => {
      const serialized = JSON.stringify(input);
      if (last?.input !== serialized) {
        last = { input: serialized, key: makeKey() };
      }
      return client.submit({
        ...input,
        idempotencyKey: input.idempotencyKey ?? last.key,
      });
    },
  );
  const reset = mutation.reset;
  mutation.reset = () => {
    last = null;
    reset();
  };
  return mutation;
}

function randomKey(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } })
    .crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
