import { type ZodType, z } from "zod";
import type { RuntimeContext } from "./context.js";
import { ImageJobError, toJobError, type UserMessages } from "./errors.js";
import { estimateWaitMs, meanRunMs } from "./eta.js";
import type { ServiceStatus } from "./events.js";
import { fingerprint } from "./fingerprint.js";
import type { SweepReport } from "./hub.js";
import {
  isTerminal,
  type Job,
  type JobView,
  type QueuePosition,
  queuedJob,
  toJobView,
} from "./job.js";
import type { SubmitLimits, WaitingJob } from "./ports/job-store.js";
import {
  createImageRequestSchema,
  type ImageRequest,
  MAX_SEED,
  parseOrThrow,
  type RequestLimits,
} from "./request.js";

/** The authenticated user a call is made for. */
export interface AuthUser {
  /** The user's id; jobs are owned by it. */
  readonly id: string;
}

/** What a call wants to touch. */
export type Resource =
  | {
      readonly kind: "job";
      readonly jobId: string;
      readonly owner: string;
      readonly conversationId: string;
    }
  | { readonly kind: "conversation"; readonly conversationId: string }
  | {
      /** The chat message a submit binds its job to. */
      readonly kind: "message";
      readonly messageId: string;
      readonly conversationId: string;
    };

/** What a call wants to do. */
export type Action = "read" | "submit" | "cancel" | "retry";

/**
 * Decides whether `user` may do `action` on `resource`. A refusal answers
 * NOT_FOUND, never revealing that the resource exists.
 */
export type Authorize = (
  user: AuthUser,
  resource: Resource,
  action: Action,
) => boolean | Promise<boolean>;

/**
 * The default: a user reaches only their own jobs. Core does not know who
 * owns a conversation or a message, so it lets those through: lists are
 * filtered to the user's own jobs either way, but an app whose users could
 * name another user's message must check `message` resources itself, or the
 * relay would patch that message.
 */
export const ownerOnly: Authorize = (user, resource) =>
  resource.kind !== "job" || resource.owner === user.id;

/** Caps and rates of the service. */
export interface ServiceLimits extends Partial<SubmitLimits> {
  /** Submits one user may make per `rateWindowMs`. @default 30 */
  readonly submitsPerWindow?: number;
  /** The submit rate window, in ms. @default 60000 */
  readonly rateWindowMs?: number;
  /** How long an idempotency key is remembered, in ms. @default 24 h */
  readonly idempotencyTtlMs?: number;
  /** Attempts before WORKER_LOST is final. @default 2 */
  readonly maxAttempts?: number;
  /** Request limits (sizes, steps, …). */
  readonly request?: RequestLimits;
}

/** Options of {@link ImageJobService}. */
export interface ServiceOptions {
  /** The shared runtime. */
  readonly context: RuntimeContext;
  /** Caps and rates. */
  readonly limits?: ServiceLimits;
  /** The access rule. @default ownerOnly */
  readonly authorize?: Authorize;
  /** Queues a submit may name; the first is the default. @default ["default"] */
  readonly queues?: readonly string[];
  /** The schema of the backend's own request fields. */
  readonly extraSchema?: ZodType<Record<string, unknown>>;
  /** Per-code replacements of user messages. */
  readonly userMessages?: UserMessages;
  /** Whether submits may set a priority. @default false */
  readonly priorities?: boolean;
}

/** What a submit takes. */
export interface SubmitJobInput {
  /** The conversation the job belongs to. */
  readonly conversationId: string;
  /** The chat message that shows it (created by the app beforehand). */
  readonly messageId?: string;
  /** The image request; validated against the operator's limits. */
  readonly request: unknown;
  /** Makes a double submit return the same job, for 24 h per user. */
  readonly idempotencyKey?: string;
  /** The queue; one of the service's queues. */
  readonly queue?: string;
  /** Claim priority, when priorities are on. */
  readonly priority?: number;
}

/** A job with its live position. */
export interface JobSnapshot {
  /** The job as its owner sees it. */
  readonly job: JobView;
  /** Its live position while it waits, else null. */
  readonly position: QueuePosition | null;
  /** Estimated wait before it starts, in ms, while it waits and when known. */
  readonly etaMs: number | null;
}

/** A waiting job's position with its ETA. */
export interface WaitingPosition extends WaitingJob {
  /** Estimated wait before it starts, in ms, when known. */
  readonly etaMs: number | null;
}

/** What `stats()` reports per queue. */
export interface QueueHealth {
  /** The queue. */
  readonly queue: string;
  /** Waiting jobs. */
  readonly queued: number;
  /** Running jobs. */
  readonly running: number;
  /** How long the oldest waiting job has waited, in ms. */
  readonly oldestWaitMs: number | null;
  /** Mean run time of recent jobs, in ms, once known. */
  readonly meanRunMs: number | null;
  /** Each backend's breaker state. */
  readonly backends: readonly { id: string; breaker: string }[];
}

/** What `stats()` reports, for health checks and dashboards. */
export interface ServiceStats {
  /** Per queue. */
  readonly queues: readonly QueueHealth[];
  /** The last sweep this process saw, or null. */
  readonly lastSweep: SweepReport | null;
}

const id = z.string().trim().min(1).max(200);

/**
 * The API side of imagejobs: submit, cancel, retry, read. Every call checks
 * access through `authorize`; a refusal answers NOT_FOUND.
 */
export class ImageJobService {
  readonly #context: RuntimeContext;
  readonly #authorize: Authorize;
  readonly #queues: readonly string[];
  readonly #limits: Required<Omit<ServiceLimits, "request">>;
  readonly #requestSchema: ZodType<ImageRequest>;
  readonly #inputSchema: ZodType;
  readonly #messages: UserMessages;
  #lastSweep: SweepReport | null = null;

  constructor(options: ServiceOptions) {
    this.#context = options.context;
    this.#authorize = options.authorize ?? ownerOnly;
    this.#queues = options.queues?.length ? options.queues : ["default"];
    this.#messages = options.userMessages ?? options.context.userMessages ?? {};
    const limits = options.limits ?? {};
    this.#limits = {
      maxQueuedPerOwner: limits.maxQueuedPerOwner ?? 4,
      maxActivePerOwner: limits.maxActivePerOwner ?? 5,
      maxQueueSize: limits.maxQueueSize ?? 1000,
      submitsPerWindow: limits.submitsPerWindow ?? 30,
      rateWindowMs: limits.rateWindowMs ?? 60_000,
      idempotencyTtlMs: limits.idempotencyTtlMs ?? 24 * 60 * 60 * 1000,
      maxAttempts: limits.maxAttempts ?? 2,
    };
    this.#requestSchema = createImageRequestSchema({
      limits: limits.request,
      extra: options.extraSchema,
    });
    this.#inputSchema = z.strictObject({
      conversationId: id,
      messageId: id.optional(),
      request: z.unknown(),
      idempotencyKey: id.optional(),
      queue: z.enum(this.#queues as [string, ...string[]]).optional(),
      priority: options.priorities
        ? z.number().int().min(-1000).max(1000).optional()
        : z.never({ error: "priorities are not enabled" }).optional(),
    });
    this.#context.hub.on("sweep", (report) => {
      this.#lastSweep = report;
    });
  }

  /** The queues this service accepts, the default first. */
  get queues(): readonly string[] {
    return this.#queues;
  }

  /** Validates an image request without submitting it. */
  validateRequest(request: unknown): ImageRequest {
    return parseOrThrow(this.#requestSchema, request);
  }

  /**
   * Queues a job. Refused submits (invalid, over quota, rate or queue cap,
   * idempotency conflict) write nothing. A duplicate idempotency key returns
   * the existing job.
   */
  async submit(user: AuthUser, input: SubmitJobInput): Promise<JobSnapshot> {
    checkUser(user);
    const parsed = parseOrThrow(this.#inputSchema, input) as SubmitJobInput;
    const request = parseOrThrow(this.#requestSchema, parsed.request);
    await this.#access(
      user,
      {
        kind: "conversation",
        conversationId: parsed.conversationId,
      },
      "submit",
    );
    if (parsed.messageId !== undefined) {
      await this.#access(
        user,
        {
          kind: "message",
          messageId: parsed.messageId,
          conversationId: parsed.conversationId,
        },
        "submit",
      );
    }

    return this.#enqueue(user, {
      queue: parsed.queue ?? this.#queues[0]!,
      conversationId: parsed.conversationId,
      messageId: parsed.messageId ?? null,
      request,
      priority: parsed.priority ?? 0,
      retryOf: null,
      idempotencyKey: parsed.idempotencyKey,
    });
  }

  /**
   * Cancels a queued or running job. A running job is interrupted on its GPU
   * by its own worker. Cancelling a finished job changes nothing.
   */
  async cancel(user: AuthUser, jobId: string): Promise<JobSnapshot> {
    const job = await this.#owned(user, jobId, "cancel");
    if (isTerminal(job.status)) return this.#snapshot(job);

    const { jobs, clock, relay } = this.#context;
    const now = clock.now();
    const outcome = await jobs.transition({
      jobId,
      from: ["queued", "running"],
      patch: {
        status: "cancelled",
        finishedAt: now,
        error: this.#error(new ImageJobError("CANCELLED")),
      },
      now,
    });
    if (outcome.change) await relay.publish(outcome.change);
    return this.#snapshot(
      outcome.job ?? (await this.#owned(user, jobId, "read")),
    );
  }

  /**
   * Submits a failed or cancelled job again as a new job with a new ticket,
   * the same message, parameters and seed. The old job stays as it ended.
   */
  async retry(user: AuthUser, jobId: string): Promise<JobSnapshot> {
    const job = await this.#owned(user, jobId, "retry");
    if (job.status !== "failed" && job.status !== "cancelled") {
      throw new ImageJobError("INVALID_REQUEST", {
        userMessage: "Only a failed or cancelled image can be retried.",
        fields: [{ field: "jobId", message: `job is ${job.status}` }],
        detail: `retry of ${job.status} job ${jobId}`,
      });
    }
    return this.#enqueue(user, {
      queue: job.queue,
      conversationId: job.conversationId,
      messageId: job.messageId,
      request: job.request,
      priority: job.priority,
      retryOf: job.id,
    });
  }

  /** One job with its live position; NOT_FOUND for another user's job. */
  async get(user: AuthUser, jobId: string): Promise<JobSnapshot> {
    return this.#snapshot(await this.#owned(user, jobId, "read"));
  }

  /** The user's jobs, newest first, optionally of one conversation. */
  async list(
    user: AuthUser,
    filter: { conversationId?: string; limit?: number } = {},
  ): Promise<JobSnapshot[]> {
    checkUser(user);
    if (filter.conversationId !== undefined) {
      await this.#access(
        user,
        {
          kind: "conversation",
          conversationId: filter.conversationId,
        },
        "read",
      );
    }
    const jobs = await this.#context.jobs.list({
      owner: user.id,
      conversationId: filter.conversationId,
      limit: Math.min(Math.max(filter.limit ?? 100, 1), 500),
    });
    return Promise.all(jobs.map((job) => this.#snapshot(job)));
  }

  /** A waiting job's live position, or null once it left the queue. */
  async position(user: AuthUser, jobId: string): Promise<QueuePosition | null> {
    const job = await this.#owned(user, jobId, "read");
    return this.#context.jobs.position(job.id, this.#context.order);
  }

  /**
   * Every waiting job of a queue with its position and ETA, in claim order:
   * what a gateway pushes to waiting users when the queue changes.
   */
  async waiting(queue: string, limit = 10_000): Promise<WaitingPosition[]> {
    const { jobs, order } = this.#context;
    const [waiting, stats] = await Promise.all([
      jobs.waiting(queue, order, limit),
      jobs.stats(queue),
    ]);
    return waiting.map((entry) => ({
      ...entry,
      etaMs: estimateWaitMs(stats, entry.position),
    }));
  }

  /**
   * A queue's service status as users should hear of it: `recovering` while
   * it has backends and none of their breakers is closed.
   */
  async serviceStatus(queue: string): Promise<ServiceStatus> {
    const { backends } = await this.#context.jobs.stats(queue);
    const open = backends.length > 0;
    return open && !backends.some((b) => b.breaker === "closed")
      ? "recovering"
      : "ok";
  }

  /** Queue depth, oldest wait, running jobs, breakers and the last sweep. */
  async stats(): Promise<ServiceStats> {
    const { jobs, clock } = this.#context;
    const names = new Set([...this.#queues, ...(await jobs.queues())]);
    const now = clock.now();
    const queues = await Promise.all(
      [...names].map(async (queue): Promise<QueueHealth> => {
        const stats = await jobs.stats(queue);
        return {
          queue,
          queued: stats.queued,
          running: stats.running,
          oldestWaitMs:
            stats.oldestQueuedAt === null ? null : now - stats.oldestQueuedAt,
          meanRunMs: meanRunMs(stats),
          backends: stats.backends.map((b) => ({
            id: b.id,
            breaker: b.breaker,
          })),
        };
      }),
    );
    return { queues, lastSweep: this.#lastSweep };
  }

  /** The user message of a code, with this service's replacements. */
  userMessage(error: ImageJobError): string {
    return this.#messages[error.code] ?? error.userMessage;
  }

  async #enqueue(
    user: AuthUser,
    input: {
      queue: string;
      conversationId: string;
      messageId: string | null;
      request: ImageRequest;
      priority: number;
      retryOf: string | null;
      idempotencyKey?: string;
    },
  ): Promise<JobSnapshot> {
    const { jobs, clock, relay } = this.#context;
    const now = clock.now();
    const rate = await jobs.hit({
      key: `submit:${user.id}`,
      windowMs: this.#limits.rateWindowMs,
      now,
    });
    if (rate.count > this.#limits.submitsPerWindow) {
      throw this.#throwable("RATE_LIMITED", {
        retryAfterMs: rate.resetAt - now,
        detail: `${rate.count} submits by ${user.id} in the window`,
      });
    }

    const request = { ...input.request };
    if (request.seed === -1) {
      request.seed = Math.floor(Math.random() * (MAX_SEED + 1));
    }
    const outcome = await jobs.submit({
      job: queuedJob({
        queue: input.queue,
        owner: user.id,
        conversationId: input.conversationId,
        messageId: input.messageId,
        request,
        priority: input.priority,
        maxAttempts: this.#limits.maxAttempts,
        retryOf: input.retryOf,
        now,
      }),
      limits: this.#limits,
      idempotency: input.idempotencyKey
        ? {
            key: input.idempotencyKey,
            fingerprint: fingerprint({
              queue: input.queue,
              conversationId: input.conversationId,
              messageId: input.messageId,
              request: input.request,
              priority: input.priority,
            }),
            expiresAt: now + this.#limits.idempotencyTtlMs,
          }
        : undefined,
      now,
    });

    switch (outcome.kind) {
      case "created":
        await relay.publish(outcome.change);
        return this.#snapshot(outcome.job);
      case "duplicate":
        return this.#snapshot(outcome.job);
      case "conflict":
        throw this.#throwable("IDEMPOTENCY_CONFLICT", {
          detail: `key ${input.idempotencyKey} names job ${outcome.jobId}`,
        });
      case "quota":
        throw await this.#quotaError(input.queue, outcome.active);
      case "queue-full":
        throw this.#throwable("QUEUE_FULL", {
          retryAfterMs: 60_000,
          detail: `queue ${input.queue} holds ${outcome.queueSize} jobs`,
        });
    }
  }

  async #quotaError(queue: string, active: number): Promise<ImageJobError> {
    const stats = await this.#context.jobs.stats(queue);
    const retryAfterMs = Math.round(meanRunMs(stats) ?? 30_000);
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const when =
      seconds < 90
        ? `${seconds} second${seconds === 1 ? "" : "s"}`
        : `${Math.ceil(seconds / 60)} minutes`;
    return this.#throwable("QUOTA_EXCEEDED", {
      retryAfterMs,
      userMessage: `You already have ${active} images waiting or in progress, the most allowed. Please try again in about ${when}, when one has finished.`,
      detail: `owner has ${active} active jobs in ${queue}`,
    });
  }

  async #owned(user: AuthUser, jobId: string, action: Action): Promise<Job> {
    checkUser(user);
    const job =
      typeof jobId === "string" && jobId.length <= 200
        ? await this.#context.jobs.get(jobId)
        : null;
    if (!job) throw this.#throwable("NOT_FOUND", { detail: `job ${jobId}` });
    await this.#access(
      user,
      {
        kind: "job",
        jobId,
        owner: job.owner,
        conversationId: job.conversationId,
      },
      action,
    );
    return job;
  }

  async #access(user: AuthUser, resource: Resource, action: Action) {
    if (await this.#authorize(user, resource, action)) return;
    throw this.#throwable("NOT_FOUND", {
      detail: `${user.id} may not ${action} ${resource.kind}`,
    });
  }

  async #snapshot(job: Job): Promise<JobSnapshot> {
    const { jobs, order } = this.#context;
    if (job.status !== "queued") {
      return { job: toJobView(job), position: null, etaMs: null };
    }
    const [position, stats] = await Promise.all([
      jobs.position(job.id, order),
      jobs.stats(job.queue),
    ]);
    return {
      job: toJobView(job),
      position,
      etaMs: position ? estimateWaitMs(stats, position.position) : null,
    };
  }

  #throwable(
    code: ConstructorParameters<typeof ImageJobError>[0],
    options: ConstructorParameters<typeof ImageJobError>[1] = {},
  ): ImageJobError {
    const userMessage = this.#messages[code] ?? options.userMessage;
    return new ImageJobError(code, { ...options, userMessage });
  }

  #error(error: ImageJobError) {
    return toJobError(error, this.#messages);
  }
}

function checkUser(user: AuthUser): void {
  if (typeof user?.id !== "string" || user.id.length === 0) {
    throw new ImageJobError("UNAUTHENTICATED", { detail: "no user id" });
  }
}
