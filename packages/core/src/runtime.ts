import type { ZodType } from "zod";
import type { CircuitBreakerOptions } from "./breaker.js";
import type { RuntimeContext, Stores } from "./context.js";
import type { UserMessages } from "./errors.js";
import { ImageJobEvents } from "./hub.js";
import type { TimeLimits } from "./limits.js";
import { MemoryEventLog } from "./memory/memory-event-log.js";
import { MemoryImageStore } from "./memory/memory-image-store.js";
import { MemoryJobStore } from "./memory/memory-job-store.js";
import { MemoryMessageStore } from "./memory/memory-message-store.js";
import { type Clock, systemClock } from "./ports/clock.js";
import type { GpuBackend } from "./ports/gpu-backend.js";
import type { ClaimOrder } from "./ports/job-store.js";
import { type Logger, silentLogger } from "./ports/logger.js";
import { Relay } from "./relay.js";
import {
  type Authorize,
  ImageJobService,
  type ServiceLimits,
} from "./service.js";
import { type RetentionOptions, Sweeper } from "./sweeper.js";
import { Worker } from "./worker.js";

/** Options of {@link createImageJobs}. Everything has a default. */
export interface ImageJobsOptions {
  /** The stores; unset ones are in memory. */
  readonly stores?: Partial<Stores>;
  /** GPU backends; one worker each. Unset: no workers in this process. */
  readonly backends?: readonly GpuBackend[];
  /** The queues; the first is the default and the one workers serve. @default ["default"] */
  readonly queues?: readonly string[];
  /** Claim order. @default "fifo" */
  readonly order?: ClaimOrder;
  /** Caps, rates and request limits. */
  readonly limits?: ServiceLimits;
  /** Time limits of jobs. */
  readonly timeLimits?: TimeLimits;
  /** Circuit breaker settings of every worker. */
  readonly breaker?: CircuitBreakerOptions;
  /** Retention of finished jobs, images and events. */
  readonly retention?: RetentionOptions;
  /** Sweep interval in ms; 0 runs no sweeper here. @default 60000 */
  readonly sweepIntervalMs?: number;
  /** The access rule. @default owner only */
  readonly authorize?: Authorize;
  /** Per-code replacements of user messages. */
  readonly userMessages?: UserMessages;
  /** The schema of the backends' own request fields; default: the first backend's. */
  readonly extraSchema?: ZodType<Record<string, unknown>>;
  /** Whether submits may set a priority. @default false */
  readonly priorities?: boolean;
  /** The metadata key on chat messages. @default "image_generation" */
  readonly metadataKey?: string;
  /** Least time between two progress changes of a job, in ms. @default 1000 */
  readonly progressIntervalMs?: number;
  /** How often an idle worker looks for work without an event, in ms. @default 2000 */
  readonly pollMs?: number;
  /** Time. @default the system clock */
  readonly clock?: Clock;
  /** Logger in pino's shape. @default silent */
  readonly logger?: Logger;
}

/** One assembled imagejobs runtime. */
export interface ImageJobs {
  /** The API: submit, cancel, retry, read. */
  readonly service: ImageJobService;
  /** One worker per backend. */
  readonly workers: readonly Worker[];
  /** The sweeper, unless disabled. */
  readonly sweeper: Sweeper | null;
  /** The relay from outbox to messages and events. */
  readonly relay: Relay;
  /** What every part shares. */
  readonly context: RuntimeContext;
  /** Typed events for metrics. */
  readonly events: ImageJobEvents;
  /** Starts the workers and the sweeper. */
  start(): void;
  /** Stops them: running jobs go back to the queue without spending an attempt. */
  close(): Promise<void>;
}

/**
 * Assembles a service, one worker per backend and a sweeper over the given
 * stores (in memory where unset): the embedded default in one call, or one
 * process of a scaled-out system when the stores are shared.
 */
export function createImageJobs(options: ImageJobsOptions = {}): ImageJobs {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const order = options.order ?? (options.priorities ? "priority" : "fifo");
  const hub = new ImageJobEvents();
  const stores: Stores = {
    jobs: options.stores?.jobs ?? new MemoryJobStore(),
    messages: options.stores?.messages ?? new MemoryMessageStore(),
    events: options.stores?.events ?? new MemoryEventLog(),
    images: options.stores?.images ?? new MemoryImageStore(),
  };
  const relay = new Relay({
    ...stores,
    hub,
    clock,
    logger,
    order,
    metadataKey: options.metadataKey,
  });
  const context: RuntimeContext = {
    ...stores,
    clock,
    logger,
    hub,
    relay,
    order,
  };
  const queues = options.queues?.length ? options.queues : ["default"];
  const backends = options.backends ?? [];

  const service = new ImageJobService({
    context,
    limits: options.limits,
    authorize: options.authorize,
    queues,
    extraSchema: options.extraSchema ?? backends[0]?.extraSchema,
    userMessages: options.userMessages,
    priorities: options.priorities,
  });
  const workers = backends.map(
    (backend) =>
      new Worker({
        context,
        backend,
        queue: queues[0],
        limits: options.timeLimits,
        breaker: options.breaker,
        progressIntervalMs: options.progressIntervalMs,
        pollMs: options.pollMs,
      }),
  );
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const sweeper =
    sweepIntervalMs > 0
      ? new Sweeper({
          context,
          limits: options.timeLimits,
          retention: options.retention,
          intervalMs: sweepIntervalMs,
        })
      : null;

  return {
    service,
    workers,
    sweeper,
    relay,
    context,
    events: hub,
    start() {
      for (const worker of workers) worker.start();
      sweeper?.start();
    },
    async close() {
      await sweeper?.stop();
      await Promise.all(workers.map((worker) => worker.close()));
      await relay.idle();
    },
  };
}
