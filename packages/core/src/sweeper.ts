import type { RuntimeContext } from "./context.js";
import { type ErrorCode, ImageJobError, toJobError } from "./errors.js";
import type { SweepReport } from "./hub.js";
import type { Job, JobStatus } from "./job.js";
import { resolveTimeLimits, type TimeLimits } from "./limits.js";
import type { TimerHandle } from "./ports/clock.js";
import type { JobPatch } from "./ports/job-store.js";

/** How long finished things are kept, in ms. */
export interface RetentionOptions {
  /** Finished jobs (and their images). @default 7 days */
  readonly jobsMs?: number;
  /** Event log entries. @default 24 h */
  readonly eventsMs?: number;
}

/** Options of a {@link Sweeper}. */
export interface SweeperOptions {
  /** The shared runtime. */
  readonly context: RuntimeContext;
  /** Time limits; the same as the workers'. */
  readonly limits?: TimeLimits;
  /** Retention of finished jobs, images and events. */
  readonly retention?: RetentionOptions;
  /** How often to sweep, in ms. @default 60000 */
  readonly intervalMs?: number;
  /** Outbox entries older than this are relayed again, in ms. @default 5000 */
  readonly redriveAfterMs?: number;
  /** Most jobs handled per kind in one sweep. @default 500 */
  readonly batchSize?: number;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Finds what crashes and limits left behind and repairs it: re-queues jobs
 * whose lease ran out while attempts remain (else WORKER_LOST), fails jobs
 * past their time limits, re-drives the relay, and enforces retention. Every
 * repair is a compare-and-set, so any number of sweepers may run at once
 * and each repair happens once. It never calls a GPU.
 */
export class Sweeper {
  readonly #context: RuntimeContext;
  readonly #limits: Required<TimeLimits>;
  readonly #jobsMs: number;
  readonly #eventsMs: number;
  readonly #intervalMs: number;
  readonly #redriveAfterMs: number;
  readonly #batch: number;
  #timer: TimerHandle | null = null;
  #running: Promise<SweepReport> | null = null;

  constructor(options: SweeperOptions) {
    this.#context = options.context;
    this.#limits = resolveTimeLimits(options.limits);
    this.#jobsMs = options.retention?.jobsMs ?? 7 * DAY;
    this.#eventsMs = options.retention?.eventsMs ?? DAY;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#redriveAfterMs = options.redriveAfterMs ?? 5000;
    this.#batch = options.batchSize ?? 500;
  }

  /** Sweeps every `intervalMs` until {@link Sweeper.stop}. */
  start(): void {
    if (this.#timer !== null) return;
    const { clock, logger } = this.#context;
    const tick = () => {
      this.#timer = clock.setTimeout(async () => {
        await this.sweep().catch((error) =>
          logger.error({ err: error }, "sweep failed"),
        );
        if (this.#timer !== null) tick();
      }, this.#intervalMs);
    };
    tick();
  }

  /** Stops sweeping; waits for a sweep under way. */
  async stop(): Promise<void> {
    if (this.#timer !== null) this.#context.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  /** Runs one sweep now. Overlapping calls share one sweep. */
  sweep(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #sweep(): Promise<SweepReport> {
    const { jobs, events, images, relay, clock, hub, logger } = this.#context;
    const now = clock.now();
    const limits = this.#limits;
    const failed: Record<string, number> = {};
    let requeued = 0;

    const due = await jobs.findDue({
      now,
      queuedBefore: now - limits.maxQueueWaitMs,
      startedBefore: now - limits.runTimeoutMs,
      progressBefore: now - limits.stallTimeoutMs,
      loadingBefore: now - limits.loadAllowanceMs,
      limit: this.#batch,
    });

    const fail = async (job: Job, code: ErrorCode, detail: string) => {
      const error = new ImageJobError(code, { detail });
      const ok = await this.#apply(job, {
        status: "failed",
        error: toJobError(error, this.#context.userMessages),
        finishedAt: now,
      });
      if (ok) {
        failed[code] = (failed[code] ?? 0) + 1;
        logger.warn({ jobId: job.id, attempt: job.attempt, code }, detail);
      }
    };

    for (const job of due.leaseExpired) {
      if (job.attempt < job.maxAttempts) {
        const ok = await this.#apply(job, {
          status: "queued",
          attempt: job.attempt + 1,
          progress: null,
          progressAt: null,
        });
        if (ok) {
          requeued += 1;
          logger.warn(
            { jobId: job.id, attempt: job.attempt },
            "lease expired; job re-queued",
          );
        }
      } else {
        await fail(
          job,
          "WORKER_LOST",
          `lease expired on attempt ${job.attempt} of ${job.maxAttempts}`,
        );
      }
    }
    for (const job of due.queueTimedOut) {
      await fail(
        job,
        "QUEUE_TIMEOUT",
        `waited over ${limits.maxQueueWaitMs} ms`,
      );
    }
    for (const job of due.runTimedOut) {
      await fail(
        job,
        "RUN_TIMEOUT",
        `attempt ran over ${limits.runTimeoutMs} ms`,
      );
    }
    for (const job of due.stalled) {
      await fail(job, "STALLED", "no progress within the stall or load limit");
    }

    const pending = await jobs.pendingChanges(
      now - this.#redriveAfterMs,
      this.#batch,
    );
    for (const change of pending) await relay.publish(change);

    const purged = await jobs.purge({
      finishedBefore: now - this.#jobsMs,
      now,
      limit: this.#batch,
    });
    const keys = purged.flatMap(
      (job) => job.result?.images.map((i) => i.key) ?? [],
    );
    if (keys.length > 0) await images.delete(keys);
    let trimmed = 0;
    for (const queue of await jobs.queues()) {
      trimmed += await events.trim(queue, now - this.#eventsMs);
    }

    const report: SweepReport = {
      at: now,
      requeued,
      failed,
      redriven: pending.length,
      purged: purged.length,
      trimmed,
    };
    hub.emit("sweep", report);
    return report;
  }

  /** One compare-and-set on the status and token the sweep read. */
  async #apply(job: Job, patch: JobPatch): Promise<boolean> {
    const { jobs, relay, clock } = this.#context;
    const from: JobStatus[] = [job.status];
    const outcome = await jobs.transition({
      jobId: job.id,
      from,
      token:
        job.status === "running" ? (job.fencingToken ?? undefined) : undefined,
      patch,
      now: clock.now(),
    });
    if (outcome.change) await relay.publish(outcome.change);
    return outcome.change !== null;
  }
}
