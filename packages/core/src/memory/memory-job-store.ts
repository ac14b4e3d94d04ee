import { newId } from "../ids.js";
import {
  isTerminal,
  type Job,
  type JobStatus,
  type QueuePosition,
} from "../job.js";
import type {
  BackendInfo,
  BackendLease,
  BreakerState,
  Claimed,
  ClaimInput,
  ClaimOrder,
  DueJobs,
  FindDueInput,
  JobChange,
  JobStore,
  QueueStats,
  SubmitInput,
  SubmitOutcome,
  TransitionInput,
  TransitionOutcome,
  WaitingJob,
} from "../ports/job-store.js";
import { fairRound, sortForClaim } from "../queue-order.js";

const RECENT_RUNS = 20;

interface BackendRecord {
  queue: string;
  holder: string | null;
  token: string | null;
  expiresAt: number;
  taskId: string | null;
  breaker: BreakerState;
  reportedAt: number;
}

interface QueueRecord {
  ticket: number;
  claimedRound: number;
  ownerRounds: Map<string, number>;
  version: number;
  waiting: Set<string>;
  running: Set<string>;
  recentRunMs: number[];
}

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The job store in one process's memory. Each method runs to completion
 * without awaiting, so it is atomic against every other caller.
 */
export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, Job>();
  readonly #queues = new Map<string, QueueRecord>();
  readonly #outbox = new Map<string, JobChange>();
  readonly #keys = new Map<
    string,
    { jobId: string; fingerprint: string; expiresAt: number }
  >();
  readonly #backends = new Map<string, BackendRecord>();
  readonly #hits = new Map<string, { count: number; resetAt: number }>();
  readonly #rounds = new Map<string, number>();

  async submit(input: SubmitInput): Promise<SubmitOutcome> {
    const { job, limits, idempotency, now } = input;
    const keyId = idempotency && `${job.owner}\u0000${idempotency.key}`;
    const known = keyId ? this.#keys.get(keyId) : undefined;
    if (known && known.expiresAt > now) {
      const existing = this.#jobs.get(known.jobId);
      if (known.fingerprint !== idempotency?.fingerprint) {
        return { kind: "conflict", jobId: known.jobId };
      }
      if (existing) return { kind: "duplicate", job: copy(existing) };
    }

    const queue = this.#queue(job.queue);
    let queued = 0;
    let active = 0;
    for (const id of [...queue.waiting, ...queue.running]) {
      const other = this.#jobs.get(id);
      if (other?.owner !== job.owner) continue;
      active += 1;
      if (other.status === "queued") queued += 1;
    }
    if (
      queued >= limits.maxQueuedPerOwner ||
      active >= limits.maxActivePerOwner
    ) {
      return { kind: "quota", active };
    }
    if (queue.waiting.size >= limits.maxQueueSize) {
      return { kind: "queue-full", queueSize: queue.waiting.size };
    }

    queue.ticket += 1;
    const round = fairRound(
      queue.ownerRounds.get(job.owner) ?? null,
      queue.claimedRound,
    );
    queue.ownerRounds.set(job.owner, round);
    const stored: Job = { ...copy(job), ticket: queue.ticket, version: 1 };
    this.#rounds.set(stored.id, round);
    this.#jobs.set(stored.id, stored);
    this.#enter(stored, stored.status);
    if (keyId && idempotency) {
      this.#keys.set(keyId, {
        jobId: stored.id,
        fingerprint: idempotency.fingerprint,
        expiresAt: idempotency.expiresAt,
      });
    }
    return {
      kind: "created",
      job: copy(stored),
      change: this.#record(stored, now),
    };
  }

  async get(jobId: string): Promise<Job | null> {
    const job = this.#jobs.get(jobId);
    return job ? copy(job) : null;
  }

  async list(filter: {
    owner: string;
    conversationId?: string;
    limit: number;
  }): Promise<Job[]> {
    const found: Job[] = [];
    for (const job of this.#jobs.values()) {
      if (job.owner !== filter.owner) continue;
      if (
        filter.conversationId !== undefined &&
        job.conversationId !== filter.conversationId
      ) {
        continue;
      }
      found.push(job);
    }
    found.sort((a, b) => b.queuedAt - a.queuedAt || b.ticket - a.ticket);
    return found.slice(0, filter.limit).map(copy);
  }

  async claim(input: ClaimInput): Promise<Claimed | null> {
    return this.#claim(input);
  }

  async transition(input: TransitionInput): Promise<TransitionOutcome> {
    const job = this.#jobs.get(input.jobId);
    const matches =
      job !== undefined &&
      input.from.includes(job.status) &&
      (input.token === undefined || input.token === job.fencingToken);

    let change: JobChange | null = null;
    if (matches && job) {
      const before = job.status;
      Object.assign(job, copy(input.patch));
      const after = job.status;
      if (after !== "running") {
        job.fencingToken = null;
        job.leaseExpiresAt = null;
        job.workerId = null;
      }
      if (before !== after) {
        this.#leave(job, before);
        this.#enter(job, after);
      }
      if (after === "succeeded" && before !== after && job.startedAt !== null) {
        const runs = this.#queue(job.queue).recentRunMs;
        runs.push(input.now - job.startedAt);
        if (runs.length > RECENT_RUNS) runs.shift();
      }
      job.version += 1;
      job.updatedAt = input.now;
      change = this.#record(job, input.now);
    }

    const next = input.claimNext ? this.#claim(input.claimNext) : null;
    return { job: change ? copy(change.job) : null, change, next };
  }

  async renewLease(input: {
    jobId: string;
    token: string;
    leaseMs: number;
    now: number;
  }): Promise<boolean> {
    const job = this.#jobs.get(input.jobId);
    if (job?.status !== "running" || job.fencingToken !== input.token) {
      return false;
    }
    job.leaseExpiresAt = input.now + input.leaseMs;
    return true;
  }

  async position(
    jobId: string,
    order: ClaimOrder,
  ): Promise<QueuePosition | null> {
    const job = this.#jobs.get(jobId);
    if (job?.status !== "queued") return null;

    const queue = this.#queue(job.queue);
    let position: number;
    if (order === "fifo") {
      position = 1;
      for (const id of queue.waiting) {
        const other = this.#jobs.get(id);
        if (other && other.ticket < job.ticket) position += 1;
      }
    } else {
      position =
        this.#ordered(job.queue, order).findIndex((e) => e.id === jobId) + 1;
    }
    return {
      position,
      queueSize: queue.waiting.size,
      queueVersion: queue.version,
    };
  }

  async waiting(
    queue: string,
    order: ClaimOrder,
    limit: number,
  ): Promise<WaitingJob[]> {
    const record = this.#queue(queue);
    return this.#ordered(queue, order)
      .slice(0, limit)
      .map((entry, index) => ({
        jobId: entry.id,
        owner: entry.owner,
        position: index + 1,
        queueSize: record.waiting.size,
        queueVersion: record.version,
      }));
  }

  async stats(queue: string): Promise<QueueStats> {
    const record = this.#queue(queue);
    let oldestQueuedAt: number | null = null;
    for (const id of record.waiting) {
      const job = this.#jobs.get(id);
      if (job && (oldestQueuedAt === null || job.queuedAt < oldestQueuedAt)) {
        oldestQueuedAt = job.queuedAt;
      }
    }
    const backends: BackendInfo[] = [];
    for (const [id, backend] of this.#backends) {
      if (backend.queue !== queue) continue;
      backends.push({
        id,
        queue,
        breaker: backend.breaker,
        reportedAt: backend.reportedAt,
      });
    }
    return {
      queue,
      queued: record.waiting.size,
      running: record.running.size,
      oldestQueuedAt,
      queueVersion: record.version,
      recentRunMs: [...record.recentRunMs],
      backends,
    };
  }

  async queues(): Promise<string[]> {
    const names = new Set(this.#queues.keys());
    for (const backend of this.#backends.values()) names.add(backend.queue);
    return [...names].sort();
  }

  async findDue(input: FindDueInput): Promise<DueJobs> {
    const leaseExpired: Job[] = [];
    const queueTimedOut: Job[] = [];
    const runTimedOut: Job[] = [];
    const stalled: Job[] = [];
    const add = (list: Job[], job: Job) => {
      if (list.length < input.limit) list.push(copy(job));
    };

    for (const job of this.#jobs.values()) {
      if (job.status === "queued" && job.queuedAt < input.queuedBefore) {
        add(queueTimedOut, job);
      }
      if (job.status !== "running") continue;
      if (job.leaseExpiresAt !== null && job.leaseExpiresAt <= input.now) {
        add(leaseExpired, job);
      }
      if (job.startedAt !== null && job.startedAt < input.startedBefore) {
        add(runTimedOut, job);
      }
      const limit =
        job.progress?.phase === "loading"
          ? input.loadingBefore
          : input.progressBefore;
      if (job.progressAt !== null && job.progressAt < limit) {
        add(stalled, job);
      }
    }
    return { leaseExpired, queueTimedOut, runTimedOut, stalled };
  }

  async pendingChanges(before: number, limit: number): Promise<JobChange[]> {
    const found: JobChange[] = [];
    for (const change of this.#outbox.values()) {
      if (found.length >= limit) break;
      if (change.at < before) found.push(copy(change));
    }
    return found;
  }

  async ackChange(changeId: string): Promise<void> {
    this.#outbox.delete(changeId);
  }

  async acquireBackend(input: {
    backendId: string;
    queue: string;
    holder: string;
    leaseMs: number;
    now: number;
  }): Promise<BackendLease | null> {
    const record = this.#backends.get(input.backendId);
    if (record?.token && record.expiresAt > input.now) return null;

    const token = newId();
    const abandonedTaskId = record?.token ? record.taskId : null;
    this.#backends.set(input.backendId, {
      queue: input.queue,
      holder: input.holder,
      token,
      expiresAt: input.now + input.leaseMs,
      taskId: null,
      breaker: record?.breaker ?? "closed",
      reportedAt: record?.reportedAt ?? input.now,
    });
    return { backendId: input.backendId, token, abandonedTaskId };
  }

  async renewBackend(input: {
    backendId: string;
    token: string;
    taskId: string | null;
    leaseMs: number;
    now: number;
  }): Promise<boolean> {
    const record = this.#backends.get(input.backendId);
    if (!record || record.token !== input.token) return false;
    record.expiresAt = input.now + input.leaseMs;
    record.taskId = input.taskId;
    return true;
  }

  async releaseBackend(backendId: string, token: string): Promise<void> {
    const record = this.#backends.get(backendId);
    if (!record || record.token !== token) return;
    record.holder = null;
    record.token = null;
    record.taskId = null;
    record.expiresAt = 0;
  }

  async reportBreaker(input: {
    backendId: string;
    queue: string;
    state: BreakerState;
    now: number;
  }): Promise<void> {
    const record = this.#backends.get(input.backendId) ?? {
      queue: input.queue,
      holder: null,
      token: null,
      expiresAt: 0,
      taskId: null,
      breaker: input.state,
      reportedAt: input.now,
    };
    record.queue = input.queue;
    record.breaker = input.state;
    record.reportedAt = input.now;
    this.#backends.set(input.backendId, record);
  }

  async hit(input: {
    key: string;
    windowMs: number;
    now: number;
  }): Promise<{ count: number; resetAt: number }> {
    let window = this.#hits.get(input.key);
    if (!window || window.resetAt <= input.now) {
      window = { count: 0, resetAt: input.now + input.windowMs };
      this.#hits.set(input.key, window);
    }
    window.count += 1;
    return { ...window };
  }

  async purge(input: {
    finishedBefore: number;
    now: number;
    limit: number;
  }): Promise<Job[]> {
    for (const [key, entry] of this.#keys) {
      if (entry.expiresAt <= input.now) this.#keys.delete(key);
    }
    for (const [key, window] of this.#hits) {
      if (window.resetAt <= input.now) this.#hits.delete(key);
    }

    const deleted: Job[] = [];
    for (const job of this.#jobs.values()) {
      if (deleted.length >= input.limit) break;
      if (
        isTerminal(job.status) &&
        job.finishedAt !== null &&
        job.finishedAt < input.finishedBefore
      ) {
        deleted.push(job);
      }
    }
    for (const job of deleted) {
      this.#jobs.delete(job.id);
      this.#rounds.delete(job.id);
    }
    return deleted;
  }

  #claim(input: ClaimInput): Claimed | null {
    const [first] = this.#ordered(input.queue, input.order);
    const job = first && this.#jobs.get(first.id);
    if (!job) return null;

    this.#leave(job, "queued");
    this.#queue(input.queue).claimedRound = first.round;
    job.status = "running";
    job.fencingToken = newId();
    job.leaseExpiresAt = input.now + input.leaseMs;
    job.workerId = input.workerId;
    job.backendId = input.backendId;
    job.startedAt = input.now;
    job.progressAt = input.now;
    job.progress = null;
    job.version += 1;
    job.updatedAt = input.now;
    this.#enter(job, "running");
    const change = this.#record(job, input.now);
    return { job: copy(job), change };
  }

  #ordered(queue: string, order: ClaimOrder) {
    const entries = [];
    for (const id of this.#queue(queue).waiting) {
      const job = this.#jobs.get(id);
      if (job) {
        entries.push({
          id,
          owner: job.owner,
          ticket: job.ticket,
          priority: job.priority,
          round: this.#rounds.get(id) ?? 0,
        });
      }
    }
    return sortForClaim(entries, order);
  }

  #queue(name: string): QueueRecord {
    let record = this.#queues.get(name);
    if (!record) {
      record = {
        ticket: 0,
        claimedRound: 0,
        ownerRounds: new Map(),
        version: 0,
        waiting: new Set(),
        running: new Set(),
        recentRunMs: [],
      };
      this.#queues.set(name, record);
    }
    return record;
  }

  #enter(job: Job, status: JobStatus): void {
    const queue = this.#queue(job.queue);
    if (status === "queued") {
      queue.waiting.add(job.id);
      queue.version += 1;
    } else if (status === "running") {
      queue.running.add(job.id);
    }
  }

  #leave(job: Job, status: JobStatus): void {
    const queue = this.#queue(job.queue);
    if (status === "queued") {
      queue.waiting.delete(job.id);
      queue.version += 1;
    } else if (status === "running") {
      queue.running.delete(job.id);
    }
  }

  #record(job: Job, now: number): JobChange {
    const change: JobChange = { id: newId(), job: copy(job), at: now };
    this.#outbox.set(change.id, change);
    return copy(change);
  }
}
