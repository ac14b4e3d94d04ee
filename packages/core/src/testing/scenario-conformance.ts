import { afterEach, describe, expect, it } from "vitest";
import { ImageJobError } from "../errors.js";
import type { ClientEvent } from "../events.js";
import { createHarness, type Harness, type StoreFactory } from "./harness.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * The scenarios of SCENARIOS.md that run on any store, with a fake clock and
 * scripted GPUs: the runtime over the adapter's stores must survive them.
 */
export function describeScenarios(name: string, factory: StoreFactory): void {
  describe(`${name}: scenarios`, () => {
    let harness: Harness | null = null;
    const make = async (options: Parameters<typeof createHarness>[1] = {}) => {
      harness = await createHarness(factory, options);
      return harness;
    };
    afterEach(async () => {
      await harness?.close();
      harness = null;
    });

    it("S01 a long render with progress stays running and succeeds; silence fails it as STALLED", async () => {
      const h = await make();
      const { job } = await h.submit("alice", { steps: 36 });
      const run = await h.backends[0]!.run(0);
      for (let step = 1; step <= 36; step += 1) {
        await h.clock.advance(20 * SECOND);
        run.step(step, 36);
      }
      expect((await h.job(job.id)).status).toBe("running");
      run.succeed();
      await h.until(async () => (await h.job(job.id)).status === "succeeded");
      expect(
        h.clock.now() - (await h.job(job.id)).startedAt!,
      ).toBeGreaterThanOrEqual(12 * MINUTE);

      const second = await h.submit("alice");
      const silent = await h.backends[0]!.run(1);
      silent.step(1);
      await h.clock.advance(5 * MINUTE - SECOND);
      expect((await h.job(second.job.id)).status).toBe("running");
      await h.until(
        async () => (await h.job(second.job.id)).status === "failed",
        { stepMs: SECOND },
      );
      const failed = await h.job(second.job.id);
      expect(failed.error?.code).toBe("STALLED");
      expect(silent.interrupted).toBe(true);
    });

    it("S02 run time is counted from claim, not from submit", async () => {
      const h = await make({ timeLimits: { runTimeoutMs: 5 * MINUTE } });
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1)
        ids.push((await h.submit(`user-${i}`)).job.id);
      for (let i = 0; i < 4; i += 1) {
        const run = await h.backends[0]!.run(i);
        for (let s = 1; s <= 8; s += 1) {
          await h.clock.advance(30 * SECOND);
          run.step(s, 8);
        }
        run.succeed();
      }
      await h.until(async () => (await h.job(ids[3]!)).status === "succeeded");
      for (const id of ids) expect((await h.job(id)).status).toBe("succeeded");
    });

    it("S02 a job over the run limit fails with RUN_TIMEOUT, retryable, in plain words", async () => {
      const h = await make({ timeLimits: { runTimeoutMs: 30 * SECOND } });
      const { job } = await h.submit("alice");
      const run = await h.backends[0]!.run(0);
      for (let s = 1; s <= 13; s += 1) {
        await h.clock.advance(5 * SECOND);
        run.step(s, 13);
      }
      await h.until(async () => (await h.job(job.id)).status === "failed");
      const failed = await h.job(job.id);
      expect(failed.error).toMatchObject({
        code: "RUN_TIMEOUT",
        retryable: true,
      });
      expect(failed.error?.message).toMatch(/took too long/);
      expect(run.interrupted).toBe(true);
    });

    it("S03 one GPU, two users: B sees position 1 with an ETA, then running, then succeeded; B's cancel removes only B's job", async () => {
      const h = await make();
      // Three finished jobs give the queue a mean run time for ETAs.
      for (let i = 0; i < 3; i += 1) {
        const warm = await h.submit("warmup");
        const run = await h.backends[0]!.run(i);
        await h.clock.advance(10 * SECOND);
        run.succeed();
        await h.until(
          async () => (await h.job(warm.job.id)).status === "succeeded",
        );
      }
      const a = await h.submit("alice");
      const runA = await h.backends[0]!.run(3);
      const b = await h.submit("bob");
      expect(b.position).toMatchObject({ position: 1, queueSize: 1 });
      expect(b.etaMs).toBe(10 * SECOND);
      const b2 = await h.submit("bob");
      const cancelled = await h.runtime.service.cancel(
        h.user("bob"),
        b2.job.id,
      );
      expect(cancelled.job.status).toBe("cancelled");
      expect((await h.job(a.job.id)).status).toBe("running");
      expect(
        (await h.runtime.service.get(h.user("bob"), b.job.id)).position
          ?.position,
      ).toBe(1);

      runA.succeed();
      const runB = await h.backends[0]!.run(4);
      expect(runB.input.request.prompt).toBe(b.job.request.prompt);
      await h.until(async () => (await h.job(b.job.id)).status === "running");
      runB.succeed();
      await h.until(async () => (await h.job(b.job.id)).status === "succeeded");
      expect(h.backends[0]!.runs).toHaveLength(5);
    });

    it("S04 a fifth queued job is refused with QUOTA_EXCEEDED and a time to retry; nothing is stored", async () => {
      const h = await make({
        limits: { maxQueuedPerOwner: 4, maxActivePerOwner: 10 },
        start: false,
      });
      for (let i = 0; i < 4; i += 1) await h.submit("alice");
      const error = await h.submit("alice").catch((e: unknown) => e);
      expect(ImageJobError.isInstance(error)).toBe(true);
      const refused = error as ImageJobError;
      expect(refused.code).toBe("QUOTA_EXCEEDED");
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.userMessage).toMatch(/try again in about \d+ seconds/);
      const mine = await h.runtime.service.list(h.user("alice"));
      expect(mine).toHaveLength(4);
      expect(
        (
          await h.runtime.service.submit(h.user("bob"), {
            conversationId: "c",
            request: { prompt: "ok" },
          })
        ).job.ticket,
      ).toBe(5);
    });

    it("S05 a double submit with one idempotency key makes one job", async () => {
      const h = await make({ start: false });
      await h.stores.createMessage("m-double");
      const input = {
        conversationId: "conv",
        messageId: "m-double",
        request: { prompt: "two clicks" },
        idempotencyKey: "click-42",
      };
      const [a, b] = await Promise.all([
        h.runtime.service.submit(h.user("alice"), input),
        h.runtime.service.submit(h.user("alice"), input),
      ]);
      expect(a.job.id).toBe(b.job.id);
      expect(await h.runtime.service.list(h.user("alice"))).toHaveLength(1);
      const conflict = await h.runtime.service
        .submit(h.user("alice"), { ...input, request: { prompt: "other" } })
        .catch((e: ImageJobError) => e.code);
      expect(conflict).toBe("IDEMPOTENCY_CONFLICT");
    });

    it("S06 200 submits at once get distinct tickets and positions 1..200", async () => {
      const h = await make({
        start: false,
        limits: {
          submitsPerWindow: 1000,
          maxQueuedPerOwner: 1000,
          maxActivePerOwner: 1000,
        },
      });
      const snapshots = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          h.runtime.service.submit(h.user(`p${i % 4}`), {
            conversationId: "c",
            request: { prompt: `n${i}` },
          }),
        ),
      );
      expect(new Set(snapshots.map((s) => s.job.ticket)).size).toBe(200);
      const live = await Promise.all(
        snapshots.map((s) =>
          h.runtime.service.position(
            h.user(`p${Number(s.job.request.prompt.slice(1)) % 4}`),
            s.job.id,
          ),
        ),
      );
      expect(live.map((p) => p?.position).sort((x, y) => x! - y!)).toEqual(
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    });

    it("S07 a dead worker's job is queued again, then fails with WORKER_LOST once attempts are spent", async () => {
      const h = await make({ letGoOnAbort: false });
      const { job } = await h.submit("alice");
      await h.backends[0]!.run(0);
      // Kill: the worker vanishes without any cleanup.
      simulateKill(h);
      const sweeper = h.runtime.sweeper!;
      // Within lease + sweep interval, the sweeper's own timer re-queues it.
      await h.until(async () => (await h.job(job.id)).status === "queued", {
        stepMs: SECOND,
        maxMs: 90 * SECOND,
      });
      await h.runtime.relay.idle();
      const requeued = await h.job(job.id);
      expect(requeued).toMatchObject({ status: "queued", attempt: 2 });
      const message = await h.metadata(job.messageId!);
      expect(message).toMatchObject({ status: "queued", jobId: job.id });

      const claimed = await h.stores.jobs.claim({
        queue: "default",
        workerId: "w-doomed",
        backendId: "b-x",
        leaseMs: 30_000,
        order: "fifo",
        now: h.clock.now(),
      });
      expect(claimed?.job.id).toBe(job.id);
      await h.clock.advance(31 * SECOND);
      await sweeper.sweep();
      const lost = await h.job(job.id);
      expect(lost.status).toBe("failed");
      expect(lost.error?.code).toBe("WORKER_LOST");
      await h.runtime.relay.idle();
      const final = await h.metadata(job.messageId!);
      expect(final).toMatchObject({
        status: "failed",
        error: { code: "WORKER_LOST" },
      });
      const error = final?.error as { message?: string } | undefined;
      expect(error?.message).toMatch(/lost your image/);
    });

    it("S08 a frozen worker cannot write: its late result is refused, one image and one terminal event", async () => {
      const h = await make({ letGoOnAbort: false });
      const published: ClientEvent[] = [];
      h.runtime.events.on("job", (e) => published.push(e));
      const { job } = await h.submit("alice");
      const frozen = await h.backends[0]!.run(0);
      const frozenToken = (await h.job(job.id)).fencingToken!;
      // A freezes: its lease is not renewed for twice its length.
      freezeRenewals(h);
      await h.clock.advance(61 * SECOND);
      await h.runtime.sweeper!.sweep();
      const taken = await h.stores.jobs.claim({
        queue: "default",
        workerId: "B",
        backendId: "gpu-b",
        leaseMs: 30_000,
        order: "fifo",
        now: h.clock.now(),
      });
      expect(taken?.job.fencingToken).not.toBe(frozenToken);
      const done = await h.stores.jobs.transition({
        jobId: job.id,
        from: ["running"],
        token: taken!.job.fencingToken!,
        patch: {
          status: "succeeded",
          finishedAt: h.clock.now(),
          result: {
            images: [
              {
                key: "b.png",
                url: "/images/b.png",
                width: 512,
                height: 512,
                seed: 1,
              },
            ],
            info: {},
          },
        },
        now: h.clock.now(),
      });
      await h.runtime.relay.publish(done.change!);

      frozen.succeed();
      await h.settle();
      await h.runtime.relay.idle();
      const final = await h.job(job.id);
      expect(final.result?.images.map((i) => i.key)).toEqual(["b.png"]);
      const terminal = published.filter(
        (e) =>
          e.type === "job" &&
          e.job.id === job.id &&
          e.job.status === "succeeded",
      );
      expect(terminal).toHaveLength(1);
      expect((h.stores.images as unknown as { size?: number }).size ?? 0).toBe(
        0,
      );
    });

    it("S09 a deadline interrupts the GPU and the next job waits until it lets go", async () => {
      const h = await make({
        letGoOnAbort: false,
        timeLimits: { runTimeoutMs: 30 * SECOND },
      });
      const first = await h.submit("alice");
      const second = await h.submit("bob");
      const run = await h.backends[0]!.run(0);
      run.step(1);
      await h.clock.advance(31 * SECOND);
      expect(run.interrupted).toBe(true);
      await h.clock.advance(5 * SECOND);
      expect(h.backends[0]!.runs).toHaveLength(1);
      expect((await h.job(second.job.id)).status).toBe("queued");
      run.letGo();
      await h.until(
        async () => (await h.job(second.job.id)).status === "running",
      );
      expect((await h.job(first.job.id)).error?.code).toBe("RUN_TIMEOUT");
      expect(h.backends[0]!.maxConcurrent).toBe(1);
    });

    it("S12 five server faults open the breaker; jobs keep positions; users hear it is recovering; one probe closes it", async () => {
      const h = await make({
        breaker: { failureThreshold: 5, openMs: 60 * SECOND },
        limits: {
          maxAttempts: 10,
          maxQueuedPerOwner: 20,
          maxActivePerOwner: 20,
        },
      });
      const gpu = h.backends[0]!;
      const service: ClientEvent[] = [];
      h.runtime.events.on("service", (e) => service.push(e));
      const rejected = await h.submit("alice");
      (await gpu.run(0)).fail(
        new ImageJobError("GPU_REJECTED", { detail: "422" }),
      );
      await h.until(
        async () => (await h.job(rejected.job.id)).status === "failed",
      );
      expect(h.runtime.workers[0]!.breakerState).toBe("closed");

      const victim = await h.submit("alice");
      const waiting = await h.submit("bob");
      for (let i = 1; i <= 5; i += 1) {
        const run = await h.run(i);
        run.fail(
          new ImageJobError("GPU_UNAVAILABLE", {
            detail: "ECONNREFUSED",
            serverFault: true,
          }),
        );
        await h.settle();
      }
      await h.until(() => h.runtime.workers[0]!.breakerState === "open");
      await h.runtime.relay.idle();
      expect(service.at(-1)).toMatchObject({
        type: "service",
        status: "recovering",
      });
      const runsWhenOpen = gpu.runs.length;
      gpu.healthy = false;
      await h.clock.advance(59 * SECOND);
      expect(gpu.runs.length).toBe(runsWhenOpen);
      const positions = await Promise.all(
        [victim, waiting].map((s) => h.stores.jobs.position(s.job.id, "fifo")),
      );
      expect(positions.map((p) => p?.position)).toEqual([1, 2]);

      await h.clock.advance(2 * SECOND);
      expect(gpu.healthChecks).toBe(1);
      expect(h.runtime.workers[0]!.breakerState).toBe("open");
      gpu.healthy = true;
      await h.clock.advance(61 * SECOND);
      await h.until(() => gpu.runs.length > runsWhenOpen);
      expect(h.runtime.workers[0]!.breakerState).toBe("closed");
      await h.runtime.relay.idle();
      expect(service.at(-1)).toMatchObject({ status: "ok" });
    });

    it("S14 when a client receives succeeded, the message already shows the image", async () => {
      const h = await make();
      const checks: Promise<unknown>[] = [];
      const seen: string[] = [];
      const { job } = await h.submit("alice");
      h.runtime.context.events.subscribe(async (queue) => {
        const read = await h.runtime.context.events.read(queue, null, 1000);
        for (const entry of read.entries) {
          const event = entry.event;
          if (event.type !== "job" || event.job.status !== "succeeded")
            continue;
          if (seen.includes(entry.cursor)) continue;
          seen.push(entry.cursor);
          checks.push(h.metadata(event.job.messageId!));
        }
      });
      (await h.backends[0]!.run(0)).succeed();
      await h.until(async () => checks.length > 0);
      const metadata = (await checks[0]) as {
        status: string;
        images: { url: string }[];
      };
      expect(metadata.status).toBe("succeeded");
      expect(metadata.images[0]?.url).toMatch(
        new RegExp(`^/images/${job.id}/`),
      );
    });
  });
}

/** Drops the worker without cleanup: it renews nothing and closes nothing. */
function simulateKill(h: Harness): void {
  freezeRenewals(h);
  const worker = h.runtime.workers[0] as unknown as { close(): Promise<void> };
  worker.close = async () => {};
}

/** The worker's lease renewals stop reaching the store; it does not notice. */
function freezeRenewals(h: Harness): void {
  h.stores.jobs.renewLease = async () => true;
  h.stores.jobs.renewBackend = async () => true;
}
