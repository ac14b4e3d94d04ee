import { CircuitBreaker, type CircuitBreakerOptions } from "./breaker.js";
import { reportBreakerChange } from "./breaker-report.js";
import type { RuntimeContext } from "./context.js";
import { ImageJobError, toJobError } from "./errors.js";
import { newId } from "./ids.js";
import type { Job, JobError, JobImage, JobProgress } from "./job.js";
import { resolveTimeLimits, type TimeLimits } from "./limits.js";
import { repeat, sleep, type TimerHandle } from "./ports/clock.js";
import type { GenerateResult, GpuBackend } from "./ports/gpu-backend.js";
import type {
  BackendLease,
  BreakerState,
  Claimed,
  ClaimInput,
  JobPatch,
} from "./ports/job-store.js";
import { ProgressTracker } from "./progress-tracker.js";
import { storeImages } from "./store-images.js";

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** The shared runtime. */
  readonly context: RuntimeContext;
  /** The GPU server this worker drives, one job at a time. */
  readonly backend: GpuBackend;
  /** The queue it claims from. @default "default" */
  readonly queue?: string;
  /** The worker's id, for leases and logs. @default a random id */
  readonly id?: string;
  /** Time limits. */
  readonly limits?: TimeLimits;
  /** Circuit breaker settings. */
  readonly breaker?: CircuitBreakerOptions;
  /** Least time between two versioned progress changes, in ms. @default 1000 */
  readonly progressIntervalMs?: number;
  /** How often to look for work when no event says there is some, in ms. @default 2000 */
  readonly pollMs?: number;
}

type StopReason = "lost" | "closing" | "run-timeout" | "stalled";

interface Attempt {
  readonly job: Job;
  readonly taskId: string;
  readonly token: string;
  readonly abort: AbortController;
  readonly tracker: ProgressTracker;
  reason: StopReason | null;
  pending: JobProgress | null;
  progressAt: number;
  lastWriteAt: number;
  writes: Promise<void>;
  stallTimer: TimerHandle | null;
  flushTimer: TimerHandle | null;
}

/**
 * Drives one GPU backend: holds the backend's lease, claims one job at a
 * time, renews the job's lease, enforces the run, stall and load limits
 * (interrupting the GPU), stores images before recording success, and
 * answers to the circuit breaker.
 */
export class Worker {
  /** The worker's id. */
  readonly id: string;
  /** The queue it claims from. */
  readonly queue: string;
  readonly #context: RuntimeContext;
  readonly #backend: GpuBackend;
  readonly #limits: Required<TimeLimits>;
  readonly #breaker: CircuitBreaker;
  readonly #progressIntervalMs: number;
  readonly #pollMs: number;
  #attempt: Attempt | null = null;
  #closing = false;
  #backoffMs = 0;
  readonly #closed = new AbortController();
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(options: WorkerOptions) {
    this.#context = options.context;
    this.#backend = options.backend;
    this.queue = options.queue ?? "default";
    this.id = options.id ?? `worker-${newId().slice(0, 8)}`;
    this.#limits = resolveTimeLimits(options.limits);
    this.#progressIntervalMs = options.progressIntervalMs ?? 1000;
    this.#pollMs = options.pollMs ?? 2000;
    this.#breaker = new CircuitBreaker(
      this.#context.clock,
      options.breaker,
      (from, to) =>
        void reportBreakerChange(this.#context, {
          backendId: this.#backend.id,
          queue: this.queue,
          from,
          to,
        }),
    );
  }

  /** The backend's breaker state. */
  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /** The id of the job running now, or null. */
  get currentJobId(): string | null {
    return this.#attempt?.job.id ?? null;
  }

  /** Starts claiming. Calling it twice does nothing. */
  start(): void {
    if (this.#loop) return;
    const { events, hub } = this.#context;
    const onQueue = (queue: string) => {
      if (queue === this.queue) this.#wake?.();
    };
    const offLog = events.subscribe(onQueue);
    const onJob = (event: {
      job: { id: string; status: string; version: number };
    }) => {
      // A newer change that is not this attempt's own claim ends it
      // (cancelled, re-queued by a sweeper, failed by a time limit).
      const attempt = this.#attempt;
      if (
        attempt?.job.id === event.job.id &&
        event.job.version > attempt.job.version &&
        event.job.status !== "running"
      ) {
        this.#stop(attempt, "lost");
      }
    };
    hub.on("job", onJob);
    this.#unsubscribe = () => {
      offLog();
      hub.off("job", onJob);
    };
    this.#loop = this.#run().catch((error) => {
      this.#context.logger.error(
        { workerId: this.id, err: error },
        "worker stopped on an unexpected error",
      );
    });
  }

  /**
   * Stops the worker. By default the running job is interrupted and
   * released to the queue without spending an attempt; with `finish` it is
   * allowed to end first. The backend lease is released either way.
   */
  async close(options: { finish?: boolean } = {}): Promise<void> {
    this.#closing = true;
    this.#closed.abort();
    this.#wake?.();
    if (this.#attempt && !options.finish) this.#stop(this.#attempt, "closing");
    await this.#loop;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  async #run(): Promise<void> {
    const lease = await this.#holdBackend();
    if (!lease) return;
    const renewal = this.#repeat(this.#limits.renewMs, async () => {
      const ok = await this.#context.jobs.renewBackend({
        backendId: this.#backend.id,
        token: lease.token,
        taskId: this.#attempt?.taskId ?? null,
        leaseMs: this.#limits.leaseMs,
        now: this.#context.clock.now(),
      });
      if (!ok && this.#attempt) this.#stop(this.#attempt, "lost");
    });

    try {
      let next: Claimed | null = null;
      while (!this.#closing) {
        const allowed = await this.#breaker.allow((signal?: AbortSignal) =>
          this.#backend.health(signal),
        );
        if (!allowed) {
          await this.#idle(this.#breaker.msUntilProbe || this.#pollMs);
          continue;
        }
        const claimed =
          next ?? (await this.#context.jobs.claim(this.#claimInput()));
        next = null;
        if (!claimed) {
          await this.#idle(this.#pollMs);
          continue;
        }
        void this.#context.relay.publish(claimed.change);
        next = await this.#runJob(claimed.job, lease);
        if (this.#backoffMs > 0) {
          // After a server fault, give a restarting server a moment before
          // the next claim instead of failing through the queue.
          await this.#pause(this.#backoffMs);
          this.#backoffMs = 0;
        }
      }
      if (next) await this.#release(next.job, next.job.fencingToken!);
    } finally {
      renewal();
      await this.#context.jobs.releaseBackend(this.#backend.id, lease.token);
    }
  }

  async #holdBackend(): Promise<BackendLease | null> {
    const { jobs, clock, logger } = this.#context;
    while (!this.#closing) {
      const lease = await jobs.acquireBackend({
        backendId: this.#backend.id,
        queue: this.queue,
        holder: this.id,
        leaseMs: this.#limits.leaseMs,
        now: clock.now(),
      });
      if (lease) {
        if (lease.abandonedTaskId) {
          // A holder died mid-task: make sure the server let go of it.
          logger.warn(
            { backendId: this.#backend.id, taskId: lease.abandonedTaskId },
            "interrupting a task abandoned by a lost worker",
          );
          await this.#backend
            .interrupt(lease.abandonedTaskId)
            .catch((error) =>
              logger.warn(
                { backendId: this.#backend.id, err: error },
                "interrupt failed",
              ),
            );
        }
        await jobs.reportBreaker({
          backendId: this.#backend.id,
          queue: this.queue,
          state: this.#breaker.state,
          now: clock.now(),
        });
        return lease;
      }
      await this.#idle(this.#limits.renewMs);
    }
    return null;
  }

  async #runJob(job: Job, lease: BackendLease): Promise<Claimed | null> {
    const { jobs, clock, logger } = this.#context;
    const attempt: Attempt = {
      job,
      taskId: newId(),
      token: job.fencingToken!,
      abort: new AbortController(),
      tracker: new ProgressTracker(),
      reason: null,
      pending: null,
      progressAt: clock.now(),
      lastWriteAt: 0,
      writes: Promise.resolve(),
      stallTimer: null,
      flushTimer: null,
    };
    this.#attempt = attempt;
    const log = {
      jobId: job.id,
      attempt: job.attempt,
      backendId: this.#backend.id,
      taskId: attempt.taskId,
    };
    logger.info(log, "job started");

    await jobs.renewBackend({
      backendId: this.#backend.id,
      token: lease.token,
      taskId: attempt.taskId,
      leaseMs: this.#limits.leaseMs,
      now: clock.now(),
    });
    const stopRenewal = this.#repeat(this.#limits.renewMs, async () => {
      const ok = await jobs.renewLease({
        jobId: job.id,
        token: attempt.token,
        leaseMs: this.#limits.leaseMs,
        now: clock.now(),
      });
      if (!ok) this.#stop(attempt, "lost");
    });
    const runLeft =
      (job.startedAt ?? clock.now()) + this.#limits.runTimeoutMs - clock.now();
    const runTimer = clock.setTimeout(
      () => this.#stop(attempt, "run-timeout"),
      Math.max(0, runLeft),
    );
    this.#armStall(attempt, this.#limits.stallTimeoutMs);

    let result: GenerateResult | null = null;
    let failure: ImageJobError | null = null;
    try {
      result = await this.#backend.generate({
        request: job.request,
        taskId: attempt.taskId,
        signal: attempt.abort.signal,
        onProgress: (report) => this.#onProgress(attempt, report),
      });
    } catch (error) {
      failure = ImageJobError.from(error);
    }
    clock.clearTimeout(runTimer);
    this.#clearTimers(attempt);

    if (failure?.outcomeUnknown && attempt.reason === null) {
      logger.warn(
        { ...log, code: failure.code },
        "outcome unknown; waiting for the server to be idle",
      );
      await this.#backend.waitUntilIdle().catch(() => {});
    }
    stopRenewal();
    await attempt.writes;
    this.#attempt = null;
    await jobs.renewBackend({
      backendId: this.#backend.id,
      token: lease.token,
      taskId: null,
      leaseMs: this.#limits.leaseMs,
      now: clock.now(),
    });

    return this.#finish(attempt, result, failure);
  }

  async #finish(
    attempt: Attempt,
    result: GenerateResult | null,
    failure: ImageJobError | null,
  ): Promise<Claimed | null> {
    const { logger } = this.#context;
    const { job } = attempt;
    const log = {
      jobId: job.id,
      attempt: job.attempt,
      backendId: this.#backend.id,
    };

    if (failure?.serverFault) {
      this.#breaker.recordFault();
      this.#backoffMs = this.#breaker.retryDelayMs;
    } else if (attempt.reason === null) {
      this.#breaker.recordSuccess();
    }

    switch (attempt.reason) {
      case "lost":
        logger.warn(
          log,
          "job was cancelled or taken over; its result is dropped",
        );
        return null;
      case "closing":
        return this.#release(job, attempt.token);
      case "run-timeout":
        return this.#fail(
          attempt,
          new ImageJobError("RUN_TIMEOUT", {
            detail: `attempt ran over ${this.#limits.runTimeoutMs} ms`,
          }),
        );
      case "stalled":
        return this.#fail(
          attempt,
          new ImageJobError("STALLED", {
            detail: "no progress within the stall or load limit",
          }),
        );
    }

    if (failure) {
      logger.warn(
        { ...log, code: failure.code, err: failure },
        "generation failed",
      );
      // The server may still have run it, or it never reached the server:
      // either way the attempt is not the job's fault, and it waits.
      if (failure.outcomeUnknown || failure.code === "GPU_UNAVAILABLE") {
        return this.#release(job, attempt.token);
      }
      return this.#fail(attempt, failure);
    }

    let images: JobImage[];
    try {
      images = await storeImages(this.#context.images, job, result!);
    } catch (error) {
      return this.#fail(attempt, ImageJobError.from(error));
    }
    const outcome = await this.#transition(attempt, {
      status: "succeeded",
      result: { images, info: result!.info },
      progress: {
        phase: "sampling",
        fraction: 1,
        step: attempt.tracker.current?.steps ?? job.request.steps,
        steps: attempt.tracker.current?.steps ?? job.request.steps,
        etaMs: 0,
      },
      finishedAt: this.#context.clock.now(),
    });
    if (!outcome.stored) {
      logger.warn(
        log,
        "late result refused by the fencing token; images deleted",
      );
      await this.#context.images.delete(images.map((image) => image.key));
    } else {
      logger.info(log, "job succeeded");
    }
    return outcome.next;
  }

  #fail(attempt: Attempt, error: ImageJobError) {
    const jobError: JobError = toJobError(error, this.#context.userMessages);
    return this.#transition(attempt, {
      status: "failed",
      error: jobError,
      progress: attempt.pending ?? attempt.tracker.current,
      finishedAt: this.#context.clock.now(),
    }).then((outcome) => outcome.next);
  }

  /** Puts a job back in the queue without spending an attempt. */
  async #release(job: Job, token: string): Promise<Claimed | null> {
    const patch: JobPatch = {
      status: "queued",
      progress: null,
      progressAt: null,
    };
    return (await this.#write(job.id, token, patch)).next;
  }

  #transition(attempt: Attempt, patch: JobPatch) {
    return this.#write(attempt.job.id, attempt.token, patch);
  }

  /**
   * One fenced write of a running job, claiming the next job in the same
   * step when the worker may; the change goes to the relay off this path.
   */
  async #write(
    jobId: string,
    token: string,
    patch: JobPatch,
  ): Promise<{ stored: boolean; next: Claimed | null }> {
    const { jobs, clock, relay } = this.#context;
    const outcome = await jobs.transition({
      jobId,
      from: ["running"],
      token,
      patch,
      now: clock.now(),
      claimNext: this.#canClaim() ? this.#claimInput() : undefined,
    });
    if (outcome.change) void relay.publish(outcome.change);
    return { stored: outcome.change !== null, next: outcome.next };
  }

  #onProgress(
    attempt: Attempt,
    report: Parameters<ProgressTracker["update"]>[0],
  ) {
    if (attempt.reason !== null) return;
    const now = this.#context.clock.now();
    const update = attempt.tracker.update(report, now);
    if (update.advanced) {
      attempt.progressAt = now;
      attempt.pending = update.progress;
      if (update.startedLoading) {
        this.#armStall(attempt, this.#limits.loadAllowanceMs);
      } else if (update.progress.phase !== "loading") {
        this.#armStall(attempt, this.#limits.stallTimeoutMs);
      }
    }
    if (!attempt.pending) return;

    const due = attempt.lastWriteAt + this.#progressIntervalMs - now;
    if (due <= 0) {
      this.#flush(attempt);
    } else if (attempt.flushTimer === null) {
      attempt.flushTimer = this.#context.clock.setTimeout(() => {
        attempt.flushTimer = null;
        this.#flush(attempt);
      }, due);
    }
  }

  #flush(attempt: Attempt): void {
    const progress = attempt.pending;
    if (!progress || attempt.reason !== null) return;
    attempt.pending = null;
    attempt.lastWriteAt = this.#context.clock.now();
    const progressAt = attempt.progressAt;
    attempt.writes = attempt.writes.then(async () => {
      const { jobs, clock, relay } = this.#context;
      const outcome = await jobs.transition({
        jobId: attempt.job.id,
        from: ["running"],
        token: attempt.token,
        patch: { progress, progressAt },
        now: clock.now(),
      });
      if (outcome.change) void relay.publish(outcome.change);
      else this.#stop(attempt, "lost");
    });
  }

  #armStall(attempt: Attempt, ms: number): void {
    const { clock } = this.#context;
    if (attempt.stallTimer !== null) clock.clearTimeout(attempt.stallTimer);
    attempt.stallTimer = clock.setTimeout(
      () => this.#stop(attempt, "stalled"),
      ms,
    );
  }

  #clearTimers(attempt: Attempt): void {
    const { clock } = this.#context;
    if (attempt.stallTimer !== null) clock.clearTimeout(attempt.stallTimer);
    if (attempt.flushTimer !== null) clock.clearTimeout(attempt.flushTimer);
    attempt.stallTimer = null;
    attempt.flushTimer = null;
  }

  #stop(attempt: Attempt, reason: StopReason): void {
    if (attempt.reason !== null) return;
    attempt.reason = reason;
    attempt.pending = null;
    attempt.abort.abort(new ImageJobError("CANCELLED", { detail: reason }));
  }

  #repeat(ms: number, task: () => Promise<void>): () => void {
    const { clock, logger } = this.#context;
    return repeat(clock, ms, task, (error) =>
      logger.warn({ workerId: this.id, err: error }, "periodic task failed"),
    );
  }

  #canClaim(): boolean {
    return (
      !this.#closing &&
      this.#breaker.state === "closed" &&
      this.#backoffMs === 0
    );
  }

  #claimInput(): ClaimInput {
    return {
      queue: this.queue,
      workerId: this.id,
      backendId: this.#backend.id,
      leaseMs: this.#limits.leaseMs,
      order: this.#context.order,
      now: this.#context.clock.now(),
    };
  }

  /** Waits `ms`, or less when the worker closes; new work does not wake it. */
  #pause(ms: number): Promise<void> {
    return sleep(this.#context.clock, ms, this.#closed.signal).catch(() => {});
  }

  /** Waits `ms`, or less when work may have arrived or the worker closes. */
  #idle(ms: number): Promise<void> {
    if (this.#closing) return Promise.resolve();
    const { clock } = this.#context;
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = clock.setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
