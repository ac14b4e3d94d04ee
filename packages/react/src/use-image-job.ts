"use client";
import type {
  JobSnapshot,
  JobStatus,
  JobView,
  PublicError,
  QueuePosition,
  ServiceStatus,
} from "@imagejobs/core";
import type { ConnectionStatus } from "@imagejobs/core/client";
import { useCallback, useEffect, useSyncExternalStore } from "react";
import { useImageJobClient } from "./image-jobs-provider.js";

/** What {@link useImageJob} returns, shaped like a TanStack query. */
export interface ImageJobResult {
  /** The job, once known. */
  readonly data: JobView | undefined;
  /** The job's status, or `pending` before it is known. */
  readonly status: JobStatus | "pending";
  /** Its live position while it waits. */
  readonly position: QueuePosition | null;
  /** Estimated wait before it starts, in ms, while it waits and when known. */
  readonly etaMs: number | null;
  /** The job's own error, only once it failed or was cancelled. */
  readonly error: PublicError | null;
  /** Why the job could not be loaded (NOT_FOUND), if so. */
  readonly loadError: PublicError | null;
  /** The connection's status: a lost connection is not a failed job. */
  readonly connection: ConnectionStatus;
  /** The job's queue's service status, once told. */
  readonly service: ServiceStatus;
  /** Nothing known yet. */
  readonly isPending: boolean;
  /** Waiting in its queue. */
  readonly isQueued: boolean;
  /** Being made. */
  readonly isRunning: boolean;
  /** Done, with its images. */
  readonly isSucceeded: boolean;
  /** Ended with an error. */
  readonly isFailed: boolean;
  /** Cancelled. */
  readonly isCancelled: boolean;
  /** Will never change again. */
  readonly isTerminal: boolean;
  /** Cancels this job (only this one) on the server. */
  cancel(): Promise<JobSnapshot>;
  /** Submits this failed or cancelled job again; resolves with the new job. */
  retry(): Promise<JobSnapshot>;
}

/** One job by id, live: follows it while mounted. */
export function useImageJob(jobId: string): ImageJobResult {
  const client = useImageJobClient();
  useEffect(() => client.watchJob(jobId), [client, jobId]);
  const state = useSyncExternalStore(
    client.subscribe,
    client.getSnapshot,
    client.getSnapshot,
  );
  const cancel = useCallback(() => client.cancel(jobId), [client, jobId]);
  const retry = useCallback(() => client.retry(jobId), [client, jobId]);

  const entry = state.jobs[jobId];
  const target = state.targets[`job:${jobId}`];
  const job = entry?.job;
  const status = job?.status ?? "pending";
  return {
    data: job,
    status,
    position: entry?.position ?? null,
    etaMs: entry?.etaMs ?? null,
    error:
      status === "failed" || status === "cancelled"
        ? (job?.error ?? null)
        : null,
    loadError: target?.error ?? null,
    connection: state.connection,
    service: (job && state.services[job.queue]) || "ok",
    isPending: status === "pending",
    isQueued: status === "queued",
    isRunning: status === "running",
    isSucceeded: status === "succeeded",
    isFailed: status === "failed",
    isCancelled: status === "cancelled",
    isTerminal:
      status === "succeeded" || status === "failed" || status === "cancelled",
    cancel,
    retry,
  };
}
