"use client";
import type { JobSnapshot, SubmitJobInput } from "@imagejobs/core";
import { createSubmitMutation, ImageJobMutation } from "@imagejobs/core/client";
import { useMemo } from "react";
import { useImageJobClient } from "./image-jobs-provider.js";
import { type MutationResult, useMutationStore } from "./use-mutation-store.js";

/**
 * Submits image jobs. The idempotency key stays while the input does, so a
 * double click makes one job; `reset()` or a new input takes a new key.
 */
export function useSubmitImageJob(): MutationResult<
  SubmitJobInput,
  JobSnapshot
> {
  const client = useImageJobClient();
  const mutation = useMemo(() => createSubmitMutation(client), [client]);
  return useMutationStore(mutation);
}

/** Cancels a job by id (only that job). */
export function useCancelImageJob(): MutationResult<string, JobSnapshot> {
  const client = useImageJobClient();
  const mutation = useMemo(
    () => new ImageJobMutation((jobId: string) => client.cancel(jobId)),
    [client],
  );
  return useMutationStore(mutation);
}

/** Retries a failed or cancelled job by id; resolves with the new job. */
export function useRetryImageJob(): MutationResult<string, JobSnapshot> {
  const client = useImageJobClient();
  const mutation = useMemo(
    () => new ImageJobMutation((jobId: string) => client.retry(jobId)),
    [client],
  );
  return useMutationStore(mutation);
}
