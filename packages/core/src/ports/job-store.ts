import type { Job, JobStatus, QueuePosition } from "../job.js";
import type { fairRound } from "../queue-order.js";

/**
 * The order a worker claims waiting jobs in.
 * - `fifo`: lowest ticket first.
 * - `priority`: highest priority first, then lowest ticket.
 * - `fair`: round-robin between owners. Each job gets a round at submit
 *   ({@link fairRound}); claim order is priority, then round, then ticket,
 *   so every owner's next job comes before anyone's job after it.
 */
export type ClaimOrder = "fifo" | "priority" | "fair";

/** A job about to be inserted; the store assigns ticket and version. */
export type NewJob = Omit<Job, "ticket" | "version">;

/** The caps a submit is checked against, atomically with the insert. */
export interface SubmitLimits {
  /** Most jobs one owner may have queued in this queue. */
  readonly maxQueuedPerOwner: number;
  /** Most jobs one owner may have queued or running in this queue. */
  readonly maxActivePerOwner: number;
  /** Most waiting jobs the queue may hold. */
  readonly maxQueueSize: number;
}

/** An idempotency key, scoped to the job's owner. */
export interface IdempotencyInput {
  /** The caller's key. */
  readonly key: string;
  /** A fingerprint of the request as submitted. */
  readonly fingerprint: string;
  /** When the key may be forgotten (epoch ms). */
  readonly expiresAt: number;
}

/** Input of {@link JobStore.submit}. */
export interface SubmitInput {
  /** The job to insert, status `queued`. */
  readonly job: NewJob;
  /** Caps checked in the same atomic step. */
  readonly limits: SubmitLimits;
  /** Set to make the submit idempotent. */
  readonly idempotency?: IdempotencyInput;
  /** The caller's clock (epoch ms). */
  readonly now: number;
}

/** What a submit did. Nothing is written unless `created`. */
export type SubmitOutcome =
  | { readonly kind: "created"; readonly job: Job; readonly change: JobChange }
  | { readonly kind: "duplicate"; readonly job: Job }
  | { readonly kind: "conflict"; readonly jobId: string }
  | {
      readonly kind: "quota";
      /** Jobs the owner has waiting or running now. */
      readonly active: number;
    }
  | { readonly kind: "queue-full"; readonly queueSize: number };

/** Input of {@link JobStore.claim}. */
export interface ClaimInput {
  /** The queue to claim from. */
  readonly queue: string;
  /** The claiming worker. */
  readonly workerId: string;
  /** The backend the job will run on. */
  readonly backendId: string;
  /** Lease length in milliseconds. */
  readonly leaseMs: number;
  /** The claim order. */
  readonly order: ClaimOrder;
  /** The caller's clock (epoch ms). */
  readonly now: number;
}

/** A claimed job with the change the claim wrote. */
export interface Claimed {
  /** The job, now running with a new fencing token. */
  readonly job: Job;
  /** The outbox entry of the claim. */
  readonly change: JobChange;
}

/** The fields a transition may set. */
export type JobPatch = Partial<
  Pick<
    Job,
    | "status"
    | "attempt"
    | "progress"
    | "progressAt"
    | "result"
    | "error"
    | "startedAt"
    | "finishedAt"
    | "backendId"
  >
>;

/**
 * Input of {@link JobStore.transition}: one compare-and-set. It applies only
 * when the job's status is one of `from` and, if `token` is given, its
 * fencing token equals it.
 */
export interface TransitionInput {
  /** The job. */
  readonly jobId: string;
  /** Statuses the job must be in. */
  readonly from: readonly JobStatus[];
  /** The fencing token the job must hold; unset for owner actions. */
  readonly token?: string;
  /** What to set. A status of `queued` re-enters the waiting set with the same ticket. */
  readonly patch: JobPatch;
  /** The caller's clock (epoch ms). */
  readonly now: number;
  /** Claim the next job in the same atomic step (the GPU never waits). */
  readonly claimNext?: ClaimInput;
}

/** What a transition did. */
export interface TransitionOutcome {
  /** The changed job, or null when the compare-and-set failed. */
  readonly job: Job | null;
  /** The outbox entry, when the job changed. */
  readonly change: JobChange | null;
  /** The next claimed job, when `claimNext` was given and one waited. */
  readonly next: Claimed | null;
}

/**
 * One change of a job, written in the same atomic step as the change (the
 * outbox). The relay patches the message, publishes the event, then acks.
 */
export interface JobChange {
  /** Unique id of the outbox entry. */
  readonly id: string;
  /** The job after the change. */
  readonly job: Job;
  /** When it was written (epoch ms, the writer's clock). */
  readonly at: number;
}

/** A waiting job with its place, in claim order. */
export interface WaitingJob extends QueuePosition {
  /** The job. */
  readonly jobId: string;
  /** Its owner. */
  readonly owner: string;
}

/** A backend's circuit state, as its worker last reported it. */
export type BreakerState = "closed" | "open" | "half-open";

/** What the store knows about one backend. */
export interface BackendInfo {
  /** Backend id. */
  readonly id: string;
  /** Queue the backend serves. */
  readonly queue: string;
  /** Breaker state as last reported. */
  readonly breaker: BreakerState;
  /** When the state was reported (epoch ms). */
  readonly reportedAt: number;
}

/** Counts for one queue. */
export interface QueueStats {
  /** The queue. */
  readonly queue: string;
  /** Waiting jobs. */
  readonly queued: number;
  /** Running jobs. */
  readonly running: number;
  /** Submit time of the oldest waiting job, or null. */
  readonly oldestQueuedAt: number | null;
  /** The queue's change counter. */
  readonly queueVersion: number;
  /** Run times (ms) of the latest succeeded jobs, newest last; up to 20. */
  readonly recentRunMs: readonly number[];
  /** Backends known for this queue. */
  readonly backends: readonly BackendInfo[];
}

/** Input of {@link JobStore.findDue}. All times are epoch ms. */
export interface FindDueInput {
  /** The caller's clock. */
  readonly now: number;
  /** Queued jobs submitted before this have waited too long. */
  readonly queuedBefore: number;
  /** Running jobs claimed before this have run too long. */
  readonly startedBefore: number;
  /** Running jobs (not loading) whose progress last advanced before this are stalled. */
  readonly progressBefore: number;
  /** Running jobs loading a model since before this are stalled. */
  readonly loadingBefore: number;
  /** Most jobs to return per kind. */
  readonly limit: number;
}

/** Jobs the sweeper must act on. A job may appear under several kinds. */
export interface DueJobs {
  /** Running jobs whose lease ended. */
  readonly leaseExpired: readonly Job[];
  /** Queued jobs past the queue wait limit. */
  readonly queueTimedOut: readonly Job[];
  /** Running jobs past the run limit. */
  readonly runTimedOut: readonly Job[];
  /** Running jobs past the stall or load limit. */
  readonly stalled: readonly Job[];
}

/** A held backend lease. */
export interface BackendLease {
  /** The backend. */
  readonly backendId: string;
  /** Fencing token of this hold. */
  readonly token: string;
  /**
   * The GPU task the previous holder had started and not finished, when it
   * lost its lease; the new holder interrupts it before starting its own.
   */
  readonly abandonedTaskId: string | null;
}

/**
 * The job store. Every method is one atomic step of the store (a Lua script,
 * one SQL statement or transaction, a critical section in memory), and every
 * time comparison uses the `now` the caller passes, never the store's clock.
 * A change and its outbox entry are written together.
 */
export interface JobStore {
  /**
   * Inserts a queued job with the queue's next ticket, unless the idempotency
   * key already names a job or a cap refuses it. Nothing is written then.
   */
  submit(input: SubmitInput): Promise<SubmitOutcome>;

  /** One job by id, or null. */
  get(jobId: string): Promise<Job | null>;

  /** An owner's jobs, newest first, optionally of one conversation. */
  list(filter: {
    readonly owner: string;
    readonly conversationId?: string;
    readonly limit: number;
  }): Promise<Job[]>;

  /**
   * Takes the first waiting job in claim order: status running, attempt as
   * is, a new fencing token, a lease until `now + leaseMs`.
   */
  claim(input: ClaimInput): Promise<Claimed | null>;

  /** One compare-and-set on (status, fencing token); see {@link TransitionInput}. */
  transition(input: TransitionInput): Promise<TransitionOutcome>;

  /** Extends a running job's lease. False when the token is stale. Not a change. */
  renewLease(input: {
    readonly jobId: string;
    readonly token: string;
    readonly leaseMs: number;
    readonly now: number;
  }): Promise<boolean>;

  /** A waiting job's live position, or null when it is not waiting. */
  position(jobId: string, order: ClaimOrder): Promise<QueuePosition | null>;

  /** The first `limit` waiting jobs of a queue, in claim order. */
  waiting(
    queue: string,
    order: ClaimOrder,
    limit: number,
  ): Promise<WaitingJob[]>;

  /** Counts, recent run times and backends of one queue. */
  stats(queue: string): Promise<QueueStats>;

  /** Queues that have ever had a job or a backend. */
  queues(): Promise<string[]>;

  /** Jobs whose lease or time limits have run out at `now`. */
  findDue(input: FindDueInput): Promise<DueJobs>;

  /** Outbox entries written before `before`, oldest first. */
  pendingChanges(before: number, limit: number): Promise<JobChange[]>;

  /** Removes an outbox entry once relayed. Acking twice is harmless. */
  ackChange(changeId: string): Promise<void>;

  /**
   * Takes a backend's lease when it is free or expired. Returns null while
   * another holder's lease runs.
   */
  acquireBackend(input: {
    readonly backendId: string;
    readonly queue: string;
    readonly holder: string;
    readonly leaseMs: number;
    readonly now: number;
  }): Promise<BackendLease | null>;

  /**
   * Extends a backend lease and records the task now running on it (null
   * when idle). False when the token is stale.
   */
  renewBackend(input: {
    readonly backendId: string;
    readonly token: string;
    readonly taskId: string | null;
    readonly leaseMs: number;
    readonly now: number;
  }): Promise<boolean>;

  /** Frees a backend lease if `token` still holds it. */
  releaseBackend(backendId: string, token: string): Promise<void>;

  /** Records a backend's breaker state for stats and ETAs. */
  reportBreaker(input: {
    readonly backendId: string;
    readonly queue: string;
    readonly state: BreakerState;
    readonly now: number;
  }): Promise<void>;

  /**
   * Counts one hit in a fixed window per key. Returns how many hits the
   * window holds and when it ends.
   */
  hit(input: {
    readonly key: string;
    readonly windowMs: number;
    readonly now: number;
  }): Promise<{ readonly count: number; readonly resetAt: number }>;

  /**
   * Deletes up to `limit` terminal jobs finished before `finishedBefore`
   * and idempotency keys expired at `now`. Returns the deleted jobs.
   */
  purge(input: {
    readonly finishedBefore: number;
    readonly now: number;
    readonly limit: number;
  }): Promise<Job[]>;
}
