import type { PublicError } from "../errors.js";
import type { ServiceStatus } from "../events.js";
import type { JobView, QueuePosition } from "../job.js";
import type { JobSnapshot } from "../service.js";

/**
 * The connection's own status, apart from any job's: `connecting` before
 * the first open, `open`, `reconnecting` after a loss (with backoff), and
 * `offline` when closed on purpose or refused (not retrying).
 */
export type ConnectionStatus =
  | "connecting"
  | "open"
  | "reconnecting"
  | "offline";

/** What the client holds about one job. */
export interface JobEntry {
  /** The newest version of the job received. */
  readonly job: JobView;
  /** Its newest live position while it waits, else null. */
  readonly position: QueuePosition | null;
  /** Estimated wait before it starts, in ms, while it waits and when known. */
  readonly etaMs: number | null;
}

/** Whether a followed job or conversation has loaded. */
export interface TargetState {
  /** `pending` until the first snapshot, `error` when refused. */
  readonly status: "pending" | "ready" | "error";
  /** Why it was refused (NOT_FOUND for another user's job). */
  readonly error: PublicError | null;
}

/** The client store's whole state; a new object on every change. */
export interface ImageJobClientState {
  /** The connection's status. */
  readonly connection: ConnectionStatus;
  /** Why the connection was last lost or refused, if known. */
  readonly connectionError: PublicError | null;
  /** Jobs by id; an entry keeps its identity until that job changes. */
  readonly jobs: Readonly<Record<string, JobEntry>>;
  /** Followed targets by key (`job:<id>`, `conversation:<id>`). */
  readonly targets: Readonly<Record<string, TargetState>>;
  /** Each queue's service status, once told. */
  readonly services: Readonly<Record<string, ServiceStatus>>;
}

/** The state before anything happened. */
export const initialClientState: ImageJobClientState = {
  connection: "connecting",
  connectionError: null,
  jobs: {},
  targets: {},
  services: {},
};

/**
 * Merges a job into what is held, ignoring anything older: a job by its
 * version, a position by its queue version. Returns `held` when unchanged.
 */
export function mergeJob(
  held: JobEntry | undefined,
  incoming: JobSnapshot,
): JobEntry {
  if (!held || incoming.job.version > held.job.version) {
    return withPosition(incoming.job, incoming.position, incoming.etaMs, held);
  }
  if (incoming.job.version < held.job.version) return held;
  return mergePosition(held, incoming.position, incoming.etaMs);
}

/** Applies a pushed position unless an equal or newer one is held. */
export function mergePosition(
  held: JobEntry,
  position: QueuePosition | null,
  etaMs: number | null,
): JobEntry {
  if (held.job.status !== "queued" || position === null) return held;
  const current = held.position;
  if (current && current.queueVersion >= position.queueVersion) return held;
  return { job: held.job, position, etaMs };
}

function withPosition(
  job: JobView,
  position: QueuePosition | null,
  etaMs: number | null,
  held: JobEntry | undefined,
): JobEntry {
  if (job.status !== "queued") return { job, position: null, etaMs: null };
  const kept = held?.position;
  if (kept && (!position || kept.queueVersion > position.queueVersion)) {
    return { job, position: kept, etaMs: held?.etaMs ?? null };
  }
  return { job, position, etaMs: etaMs ?? held?.etaMs ?? null };
}
