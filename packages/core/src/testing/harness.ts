import type { Stores } from "../context.js";
import type { Job } from "../job.js";
import type { MessageStore } from "../ports/message-store.js";
import {
  createImageJobs,
  type ImageJobs,
  type ImageJobsOptions,
} from "../runtime.js";
import type { AuthUser, JobSnapshot } from "../service.js";
import { FakeClock, settle } from "./fake-clock.js";
import {
  ScriptedGpuBackend,
  type ScriptedRun,
} from "./scripted-gpu-backend.js";

/** The stores an adapter hands to the conformance suite. */
export interface ConformanceStores extends Stores {
  /** Creates a chat message with the given metadata (the app's job). */
  createMessage(
    messageId: string,
    metadata?: Record<string, unknown>,
  ): Promise<void>;
  /** Deletes a chat message. */
  deleteMessage(messageId: string): Promise<void>;
  /** Releases what the factory opened. */
  close(): Promise<void>;
}

/** Makes fresh, isolated stores (own keys, queue names or schema) per test. */
export type StoreFactory = () => Promise<ConformanceStores>;

/** A runtime on a fake clock and scripted GPUs, for scenario tests. */
export interface Harness {
  /** The runtime. */
  readonly runtime: ImageJobs;
  /** The fake clock. */
  readonly clock: FakeClock;
  /** The scripted GPUs, one per worker. */
  readonly backends: ScriptedGpuBackend[];
  /** The stores. */
  readonly stores: ConformanceStores;
  /** A user by id. */
  user(id: string): AuthUser;
  /** Creates a message and submits a job bound to it. */
  submit(
    owner: string,
    request?: Record<string, unknown>,
    extra?: { conversationId?: string; idempotencyKey?: string },
  ): Promise<JobSnapshot>;
  /**
   * Resolves with run `index` (0-based) of GPU `gpu`, advancing fake time
   * until the worker starts it (a worker may pause after a fault).
   */
  run(index: number, gpu?: number): Promise<ScriptedRun>;
  /** Reads a job straight from the store. */
  job(jobId: string): Promise<Job>;
  /** Reads a message's image metadata. */
  metadata(messageId: string): Promise<Record<string, unknown> | undefined>;
  /** Advances fake time until `predicate` holds. */
  until(
    predicate: () => boolean | Promise<boolean>,
    options?: { stepMs?: number; maxMs?: number },
  ): Promise<void>;
  /** Lets pending promise callbacks run. */
  settle(): Promise<void>;
  /** Stops the runtime and closes the stores. */
  close(): Promise<void>;
}

let counter = 0;

/** Builds a {@link Harness} over stores from `factory`. */
export async function createHarness(
  factory: StoreFactory,
  options: Omit<ImageJobsOptions, "stores" | "clock" | "backends"> & {
    gpus?: number;
    letGoOnAbort?: boolean;
    start?: boolean;
  } = {},
): Promise<Harness> {
  const stores = await factory();
  const clock = new FakeClock();
  const backends = Array.from(
    { length: options.gpus ?? 1 },
    (_, index) =>
      new ScriptedGpuBackend({
        id: `gpu-${++counter}-${index}`,
        letGoOnAbort: options.letGoOnAbort,
      }),
  );
  const runtime = createImageJobs({
    sweepIntervalMs: 60_000,
    ...options,
    stores,
    clock,
    backends,
  });
  if (options.start !== false) runtime.start();
  await settle();

  const messages: MessageStore = stores.messages;
  return {
    runtime,
    clock,
    backends,
    stores,
    user: (id) => ({ id }),
    async submit(owner, request = {}, extra = {}) {
      const messageId = `msg-${++counter}`;
      await stores.createMessage(messageId, {});
      return runtime.service.submit(
        { id: owner },
        {
          conversationId: extra.conversationId ?? `conv-${owner}`,
          messageId,
          request: { prompt: "a red fox in the snow", steps: 10, ...request },
          idempotencyKey: extra.idempotencyKey,
        },
      );
    },
    async run(index, gpu = 0) {
      const backend = backends[gpu]!;
      await clock.until(() => backend.runs.length > index, { stepMs: 100 });
      return backend.runs[index]!;
    },
    async job(jobId) {
      const job = await stores.jobs.get(jobId);
      if (!job) throw new Error(`job ${jobId} not found`);
      return job;
    },
    async metadata(messageId) {
      const message = await messages.get(messageId);
      return message?.metadata.image_generation as
        | Record<string, unknown>
        | undefined;
    },
    until: (predicate, untilOptions) => clock.until(predicate, untilOptions),
    settle: () => settle(),
    async close() {
      const closing = runtime.close();
      await settle();
      // Runs held past an abort would keep their workers from closing.
      for (const backend of backends) {
        for (const run of backend.runs) if (!run.settled) run.letGo();
      }
      await closing;
      await stores.close();
    },
  };
}
