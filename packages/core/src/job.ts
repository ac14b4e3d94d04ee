import type { ErrorCode, PublicError } from "./errors.js";
import { newId } from "./ids.js";
import type { ImageRequest } from "./request.js";

/** Where a job is in its life. */
export type JobStatus =
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled";

/** The statuses a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = [
  "succeeded",
  "failed",
  "cancelled",
];

/** True when a job in `status` will never change again. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What the GPU is doing for a running job. */
export type ProgressPhase = "waiting" | "loading" | "sampling";

/** The last progress of a running job, as the user sees it. */
export interface JobProgress {
  /** What the GPU is doing. */
  phase: ProgressPhase;
  /** Share done, from 0 to 1; never moves backwards within an attempt. */
  fraction: number;
  /** Current sampling step, when known. */
  step: number | null;
  /** Total sampling steps, when known. */
  steps: number | null;
  /** Estimated time left in milliseconds, when known. */
  etaMs: number | null;
}

/** One stored image of a finished job. */
export interface JobImage {
  /** The image store's key. */
  key: string;
  /** Where a client can fetch it (checks the owner or cannot be guessed). */
  url: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The seed that made it. */
  seed: number;
}

/** The result of a succeeded job. */
export interface JobResult {
  /** The images, stored before success was recorded. */
  images: JobImage[];
  /** What the backend reported about the run (sampler used, model, …). */
  info: Record<string, unknown>;
}

/** The error of a failed or cancelled job, safe to show to its owner. */
export interface JobError extends PublicError {
  /** What an operator needs to know; stripped from client views. */
  readonly detail?: string;
}

/** A job, as the job store holds it. */
export interface Job {
  /** Unique id. */
  id: string;
  /** The queue it waits in; one event log per queue. */
  queue: string;
  /** The user who submitted it. */
  owner: string;
  /** The conversation it belongs to. */
  conversationId: string;
  /** The chat message that shows it; null for a job from a script. */
  messageId: string | null;
  /** The validated request, with its seed resolved at submit. */
  request: ImageRequest;
  /** Claim priority; higher first when priorities are on. @default 0 */
  priority: number;
  /** From the queue's atomic counter; kept across re-queues. */
  ticket: number;
  /** Where it is in its life. */
  status: JobStatus;
  /** Which attempt this is, from 1. */
  attempt: number;
  /** Attempts allowed before WORKER_LOST is final. */
  maxAttempts: number;
  /** The current claim's fencing token; null unless running. */
  fencingToken: string | null;
  /** When the running attempt's lease ends (epoch ms); null unless running. */
  leaseExpiresAt: number | null;
  /** The worker holding the job; null unless running. */
  workerId: string | null;
  /** The backend the job runs on; null unless running or finished. */
  backendId: string | null;
  /** The last progress; null before the first. */
  progress: JobProgress | null;
  /** When progress last advanced (epoch ms), for stall detection. */
  progressAt: number | null;
  /** Set once succeeded. */
  result: JobResult | null;
  /** Set once failed or cancelled. */
  error: JobError | null;
  /** The job this one retries, if any. */
  retryOf: string | null;
  /** Submit time (epoch ms). */
  queuedAt: number;
  /** Claim time of the current or last attempt (epoch ms). */
  startedAt: number | null;
  /** When it reached a terminal status (epoch ms). */
  finishedAt: number | null;
  /** Last change (epoch ms). */
  updatedAt: number;
  /** Grows by one on every change. */
  version: number;
}

/** A job as its owner's client sees it: no tokens, no operator detail. */
export interface JobView {
  /** Unique id. */
  id: string;
  /** The queue it waits in. */
  queue: string;
  /** The conversation it belongs to. */
  conversationId: string;
  /** The chat message that shows it, if any. */
  messageId: string | null;
  /** The request with its seed resolved. */
  request: ImageRequest;
  /** Ticket from the queue's counter. */
  ticket: number;
  /** Where it is in its life. */
  status: JobStatus;
  /** Which attempt this is, from 1. */
  attempt: number;
  /** The last progress. */
  progress: JobProgress | null;
  /** Set once succeeded. */
  result: JobResult | null;
  /** Set once failed or cancelled. */
  error: PublicError | null;
  /** The job this one retries, if any. */
  retryOf: string | null;
  /** Submit time (epoch ms). */
  queuedAt: number;
  /** Claim time (epoch ms). */
  startedAt: number | null;
  /** Terminal time (epoch ms). */
  finishedAt: number | null;
  /** Grows by one on every change. */
  version: number;
}

/** Strips what must not leave the server. */
export function toJobView(job: Job): JobView {
  let error: PublicError | null = null;
  if (job.error) {
    const { detail: _detail, ...rest } = job.error;
    error = rest;
  }
  return {
    id: job.id,
    queue: job.queue,
    conversationId: job.conversationId,
    messageId: job.messageId,
    request: job.request,
    ticket: job.ticket,
    status: job.status,
    attempt: job.attempt,
    progress: job.progress,
    result: job.result,
    error,
    retryOf: job.retryOf,
    queuedAt: job.queuedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    version: job.version,
  };
}

/** A waiting job's live place in its queue. Derived, never stored. */
export interface QueuePosition {
  /** 1-based index in the order the worker would claim now. */
  position: number;
  /** Number of waiting jobs in the queue. */
  queueSize: number;
  /** The queue's change counter; a client keeps the newest. */
  queueVersion: number;
}

/** Codes a job can end with. */
export type JobErrorCode = Extract<
  ErrorCode,
  | "QUEUE_TIMEOUT"
  | "RUN_TIMEOUT"
  | "STALLED"
  | "WORKER_LOST"
  | "GPU_UNAVAILABLE"
  | "GPU_OUT_OF_MEMORY"
  | "GPU_REJECTED"
  | "GPU_ERROR"
  | "CANCELLED"
  | "INTERNAL"
>;

/** What a new job is made from; everything else starts empty. */
export interface QueuedJobInput {
  /** The queue it waits in. */
  readonly queue: string;
  /** The user who submits it. */
  readonly owner: string;
  /** The conversation it belongs to. */
  readonly conversationId: string;
  /** The chat message that shows it, or null. */
  readonly messageId: string | null;
  /** The validated request, seed resolved. */
  readonly request: ImageRequest;
  /** Claim priority. */
  readonly priority: number;
  /** Attempts allowed before WORKER_LOST is final. */
  readonly maxAttempts: number;
  /** The job it retries, or null. */
  readonly retryOf: string | null;
  /** Submit time (epoch ms). */
  readonly now: number;
}

/**
 * A job as it is before a store inserts it: queued, first attempt, no
 * lease, progress, result or error. The store adds ticket and version.
 */
export function queuedJob(
  input: QueuedJobInput,
): Omit<Job, "ticket" | "version"> {
  return {
    id: newId(),
    queue: input.queue,
    owner: input.owner,
    conversationId: input.conversationId,
    messageId: input.messageId,
    request: input.request,
    priority: input.priority,
    status: "queued",
    attempt: 1,
    maxAttempts: input.maxAttempts,
    fencingToken: null,
    leaseExpiresAt: null,
    workerId: null,
    backendId: null,
    progress: null,
    progressAt: null,
    result: null,
    error: null,
    retryOf: input.retryOf,
    queuedAt: input.now,
    startedAt: null,
    finishedAt: null,
    updatedAt: input.now,
  };
}
