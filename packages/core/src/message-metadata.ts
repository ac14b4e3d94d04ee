import type { Job, JobStatus, QueuePosition } from "./job.js";

/** The metadata key a job writes under, unless configured otherwise. */
export const DEFAULT_METADATA_KEY = "image_generation";

/**
 * What a chat message holds about its image job, under one metadata key.
 * A reload that reads it shows what the last event showed.
 */
export interface ImageGenerationMetadata {
  /** The job. */
  jobId: string;
  /** The job's version at this change. */
  version: number;
  /** The job's status. */
  status: JobStatus;
  /** The job's ticket. */
  ticket: number;
  /** Position at the last change, or null when not waiting. */
  position: number | null;
  /** Queue size at the last change, or null when not waiting. */
  queueSize: number | null;
  /** The last progress, or null. */
  progress: {
    phase: string;
    fraction: number;
    step: number | null;
    steps: number | null;
    etaMs: number | null;
  } | null;
  /** The images, once succeeded; null before. */
  images: { url: string; width: number; height: number; seed: number }[] | null;
  /** The parameters used (the request with its seed resolved). */
  parameters: Record<string, unknown>;
  /** The error, once failed or cancelled; null otherwise. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** Submit time, ISO 8601. */
  queuedAt: string;
  /** Claim time, ISO 8601, or null. */
  startedAt: string | null;
  /** Terminal time, ISO 8601, or null. */
  finishedAt: string | null;
}

const iso = (time: number | null) =>
  time === null ? null : new Date(time).toISOString();

/**
 * The metadata value for a job after a change. Every field is present (null
 * where empty) so the merge replaces what an older change wrote.
 */
export function jobMetadata(
  job: Job,
  position: QueuePosition | null,
): ImageGenerationMetadata {
  return {
    jobId: job.id,
    version: job.version,
    status: job.status,
    ticket: job.ticket,
    position: position?.position ?? null,
    queueSize: position?.queueSize ?? null,
    progress: job.progress ? { ...job.progress } : null,
    images:
      job.result?.images.map((image) => ({
        url: image.url,
        width: image.width,
        height: image.height,
        seed: image.seed,
      })) ?? null,
    parameters: { ...job.request },
    error: job.error
      ? {
          code: job.error.code,
          message: job.error.message,
          retryable: job.error.retryable,
        }
      : null,
    queuedAt: new Date(job.queuedAt).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

function isStoredMetadata(
  value: unknown,
): value is Pick<
  ImageGenerationMetadata,
  "jobId" | "version" | "queuedAt" | "ticket"
> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { jobId?: unknown }).jobId === "string" &&
    typeof (value as { version?: unknown }).version === "number"
  );
}

/**
 * The version guard of a metadata patch. A patch of the same job applies only
 * when its version is newer; a terminal job's key changes only for a newer
 * job (a retry, submitted later). Adapters implement the same rule in their
 * atomic step.
 */
export function shouldApplyMetadata(
  stored: unknown,
  incoming: ImageGenerationMetadata,
): boolean {
  if (!isStoredMetadata(stored)) return true;
  if (stored.jobId === incoming.jobId) {
    return incoming.version > stored.version;
  }
  // Another job: only a later submit (a retry) takes the key over.
  return compareSubmit(incoming, stored) > 0;
}

function compareSubmit(
  a: { queuedAt: string; ticket: number },
  b: { queuedAt: string; ticket: number },
): number {
  if (a.queuedAt !== b.queuedAt) return a.queuedAt < b.queuedAt ? -1 : 1;
  return a.ticket - b.ticket;
}
