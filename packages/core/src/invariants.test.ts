import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuntimeContext } from "./context.js";
import { ImageJobError } from "./errors.js";
import { ImageJobEvents } from "./hub.js";
import { isTerminal, type Job } from "./job.js";
import { MemoryEventLog } from "./memory/memory-event-log.js";
import { MemoryImageStore } from "./memory/memory-image-store.js";
import { MemoryJobStore } from "./memory/memory-job-store.js";
import { MemoryMessageStore } from "./memory/memory-message-store.js";
import type { JobStore } from "./ports/job-store.js";
import { silentLogger } from "./ports/logger.js";
import { Relay } from "./relay.js";
import { ImageJobService } from "./service.js";
import { Sweeper } from "./sweeper.js";
import { FakeClock } from "./testing/fake-clock.js";
import { ScriptedGpuBackend } from "./testing/scripted-gpu-backend.js";
import { Worker } from "./worker.js";

const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

type Command =
  | { kind: "submit"; user: number }
  | { kind: "step"; gpu: number }
  | { kind: "succeed"; gpu: number }
  | { kind: "fail"; gpu: number; fault: boolean }
  | { kind: "cancel"; pick: number }
  | { kind: "crash"; gpu: number }
  | { kind: "freeze"; gpu: number }
  | { kind: "thaw"; gpu: number }
  | { kind: "sweep" }
  | { kind: "advance"; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("submit" as const),
      user: fc.nat(3),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("step" as const),
      gpu: fc.nat(1),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("succeed" as const),
      gpu: fc.nat(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fail" as const),
      gpu: fc.nat(1),
      fault: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("cancel" as const),
      pick: fc.nat(50),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      gpu: fc.nat(1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("freeze" as const),
      gpu: fc.nat(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("thaw" as const),
      gpu: fc.nat(1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 100, max: 45_000 }),
    }),
  },
);

interface ProcessView {
  readonly store: JobStore;
  kill(): void;
  freeze(): void;
  thaw(): Promise<void>;
  readonly frozen: boolean;
}

/**
 * A process's view of the shared job store. A killed process never hears
 * back; a frozen one's calls wait and reach the store late, on thaw.
 */
function processStore(shared: JobStore): ProcessView {
  let state: "alive" | "frozen" | "dead" = "alive";
  const held: (() => void)[] = [];
  const store = new Proxy(shared, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (state === "dead") return new Promise(() => {});
        if (state === "alive") return value.apply(target, args);
        return new Promise((resolve, reject) => {
          held.push(() => value.apply(target, args).then(resolve, reject));
        });
      };
    },
  });
  return {
    store,
    kill: () => {
      state = "dead";
    },
    freeze: () => {
      if (state === "alive") state = "frozen";
    },
    get frozen() {
      return state === "frozen";
    },
    thaw: async () => {
      if (state !== "frozen") return;
      state = "alive";
      for (const call of held.splice(0)) call();
    },
  };
}

describe("invariants under random interleavings", () => {
  it(`one terminal state and event per job, monotone versions, gapless positions (seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 5, maxLength: 60 }),
        async (commands) => {
          const clock = new FakeClock();
          const shared = {
            jobs: new MemoryJobStore(),
            messages: new MemoryMessageStore(),
            events: new MemoryEventLog(),
            images: new MemoryImageStore(),
          };
          const contextFor = (jobs: JobStore): RuntimeContext => {
            const hub = new ImageJobEvents();
            const base = {
              ...shared,
              jobs,
              clock,
              logger: silentLogger,
              hub,
              order: "fifo" as const,
            };
            return { ...base, relay: new Relay(base) };
          };
          const api = contextFor(shared.jobs);
          const service = new ImageJobService({
            context: api,
            limits: {
              submitsPerWindow: 1e6,
              maxQueuedPerOwner: 1e6,
              maxActivePerOwner: 1e6,
            },
          });
          const sweeper = new Sweeper({ context: api, intervalMs: 60_000 });
          const backends = [0, 1].map(
            (i) => new ScriptedGpuBackend({ id: `gpu-${i}` }),
          );
          const processes = backends.map((backend) => {
            const view = processStore(shared.jobs);
            const worker = new Worker({
              context: contextFor(view.store),
              backend,
            });
            worker.start();
            return { worker, view };
          });
          const submitted: string[] = [];
          const terminalSeen = new Map<string, Job>();

          const activeRun = (gpu: number) =>
            backends[gpu]!.runs.find((run) => !run.settled);
          const checkPositions = async () => {
            const waiting = await shared.jobs.waiting(
              "default",
              "fifo",
              10_000,
            );
            expect(waiting.map((w) => w.position)).toEqual(
              waiting.map((_, i) => i + 1),
            );
            for (const entry of waiting) {
              const position = await shared.jobs.position(entry.jobId, "fifo");
              expect(position?.position).toBe(entry.position);
            }
          };
          const checkTerminal = async () => {
            for (const id of submitted) {
              const job = (await shared.jobs.get(id))!;
              const first = terminalSeen.get(id);
              if (first) expect(job).toEqual(first);
              else if (isTerminal(job.status)) terminalSeen.set(id, job);
            }
          };

          for (const step of commands) {
            switch (step.kind) {
              case "submit": {
                const messageId = `m-${submitted.length}`;
                await shared.messages.create(messageId);
                const { job } = await service.submit(
                  { id: `u${step.user}` },
                  {
                    conversationId: "c",
                    messageId,
                    request: { prompt: `p${submitted.length}`, steps: 4 },
                  },
                );
                submitted.push(job.id);
                break;
              }
              case "step": {
                const run = activeRun(step.gpu);
                const done = run ? backends[step.gpu]!.runs.indexOf(run) : 0;
                run?.step(1 + (done % 4), 4);
                break;
              }
              case "succeed":
                activeRun(step.gpu)?.succeed();
                break;
              case "fail":
                activeRun(step.gpu)?.fail(
                  new ImageJobError(
                    step.fault ? "GPU_ERROR" : "GPU_OUT_OF_MEMORY",
                    { serverFault: step.fault },
                  ),
                );
                break;
              case "cancel": {
                const id = submitted[step.pick % Math.max(1, submitted.length)];
                if (id) {
                  const owner = (await shared.jobs.get(id))!.owner;
                  await service.cancel({ id: owner }, id);
                }
                break;
              }
              case "crash": {
                processes[step.gpu]!.view.kill();
                const view = processStore(shared.jobs);
                const worker = new Worker({
                  context: contextFor(view.store),
                  backend: backends[step.gpu]!,
                });
                worker.start();
                processes[step.gpu] = { worker, view };
                break;
              }
              case "freeze":
                processes[step.gpu]!.view.freeze();
                break;
              case "thaw":
                await processes[step.gpu]!.view.thaw();
                break;
              case "sweep":
                await sweeper.sweep();
                break;
              case "advance":
                await clock.advance(step.ms);
                break;
            }
            await clock.advance(0);
            await checkPositions();
            await checkTerminal();
          }

          // Frozen workers finish their renders while others take their jobs
          // over; their writes then reach the store late, with stale tokens.
          for (const gpu of [0, 1]) {
            if (processes[gpu]!.view.frozen) activeRun(gpu)?.succeed();
          }
          await clock.advance(61_000);
          await sweeper.sweep();
          await clock.advance(3_000);
          for (const gpu of [0, 1]) activeRun(gpu)?.succeed();
          await clock.advance(3_000);
          for (const process of processes) await process.view.thaw();
          for (let round = 0; round < 400; round += 1) {
            const jobs = await Promise.all(
              submitted.map((id) => shared.jobs.get(id)),
            );
            if (jobs.every((job) => job && isTerminal(job.status))) break;
            for (const gpu of [0, 1]) activeRun(gpu)?.succeed();
            await clock.advance(20_000);
            await sweeper.sweep();
            await checkPositions();
            await checkTerminal();
          }
          await Promise.all([api.relay.idle(), sweeper.sweep()]);
          await clock.advance(1000);

          const events = await shared.events.read("default", null, 100_000);
          for (const id of submitted) {
            const job = (await shared.jobs.get(id))!;
            expect(isTerminal(job.status)).toBe(true);
            const mine = events.entries.flatMap((entry) =>
              entry.event.type === "job" && entry.event.job.id === id
                ? [entry.event.job]
                : [],
            );
            const versions = mine.map((view) => view.version);
            expect(new Set(versions).size).toBe(versions.length);
            expect(Math.max(...versions)).toBe(job.version);
            expect(mine.filter((view) => isTerminal(view.status))).toHaveLength(
              1,
            );
            const metadata = (await shared.messages.get(job.messageId!))
              ?.metadata.image_generation as {
              status: string;
              version: number;
            };
            expect(metadata).toMatchObject({
              status: job.status,
              version: job.version,
            });
            if (job.status === "succeeded") {
              expect(job.result?.images.length).toBe(1);
              // The result is the last claim's: every earlier token was stale.
              const runs = backends
                .flatMap((b) => b.runs)
                .filter(
                  (run) => run.input.request.prompt === job.request.prompt,
                );
              const last = runs.reduce((a, b) =>
                a.startedAt > b.startedAt ? a : b,
              );
              expect(job.result?.info.taskId).toBe(last.input.taskId);
            }
          }
          for (const backend of backends)
            expect(backend.maxConcurrent).toBeLessThanOrEqual(1);
          await Promise.race([
            Promise.all(processes.map((p) => p.worker.close())),
            clock.advance(1000),
          ]);
        },
      ),
      { numRuns, seed },
    );
  }, 120_000);
});
