import { afterEach, describe, expect, it } from "vitest";
import { ImageJobError } from "./errors.js";
import { createHarness, type Harness } from "./testing/harness.js";
import { memoryStores } from "./testing/memory-stores.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const memory = memoryStores;

describe("Worker", () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("S23 a long model load is not a stall while within the load allowance", async () => {
    h = await createHarness(memory, {
      timeLimits: { stallTimeoutMs: MINUTE, loadAllowanceMs: 8 * MINUTE },
    });
    const { job } = await h.submit("alice");
    const run = await h.backends[0]!.run(0);
    run.progress({ phase: "loading", fraction: 0.01 });
    for (let i = 0; i < 7; i += 1) {
      await h.clock.advance(MINUTE);
      run.progress({ phase: "loading", fraction: 0.01 });
    }
    expect((await h.job(job.id)).status).toBe("running");
    run.step(1, 10);
    run.succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");

    const second = await h.submit("alice");
    const stuck = await h.backends[0]!.run(1);
    stuck.progress({ phase: "loading", fraction: 0.01 });
    await h.until(
      async () => (await h.job(second.job.id)).status === "failed",
      {
        stepMs: 10 * SECOND,
      },
    );
    expect((await h.job(second.job.id)).error?.code).toBe("STALLED");
    expect(
      h.clock.now() - (await h.job(second.job.id)).startedAt!,
    ).toBeGreaterThanOrEqual(8 * MINUTE);
  });

  it("S24 the user's progress never goes backwards and shows 100 % only on success", async () => {
    h = await createHarness(memory, { progressIntervalMs: 0 });
    const seen: number[] = [];
    h.runtime.events.on("job", (event) => {
      if (event.job.progress) seen.push(event.job.progress.fraction);
    });
    const { job } = await h.submit("alice");
    const run = await h.backends[0]!.run(0);
    for (const fraction of [0.01, 0.2, 0.5, 0.01, 0.45, 1, 0]) {
      run.progress({ phase: "sampling", fraction });
      await h.settle();
    }
    expect(seen.every((f, i) => i === 0 || f >= seen[i - 1]!)).toBe(true);
    expect(Math.max(...seen)).toBeLessThan(1);
    run.succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");
    await h.runtime.relay.idle();
    expect(seen.at(-1)).toBe(1);
  });

  it("writes versioned progress at most once a second and keeps the last before a status change", async () => {
    h = await createHarness(memory);
    const { job } = await h.submit("alice", { steps: 50 });
    const run = await h.backends[0]!.run(0);
    const before = (await h.job(job.id)).version;
    for (let step = 1; step <= 20; step += 1) {
      run.step(step, 50);
      await h.clock.advance(100);
    }
    const during = (await h.job(job.id)).version;
    expect(during - before).toBeLessThanOrEqual(3);
    run.step(21, 50);
    run.fail(new ImageJobError("GPU_ERROR"));
    await h.until(async () => (await h.job(job.id)).status === "failed");
    expect((await h.job(job.id)).progress?.step).toBe(21);
  });

  it("S22 an unknown outcome waits for the server, then re-queues without spending an attempt", async () => {
    h = await createHarness(memory);
    const { job } = await h.submit("alice");
    (await h.backends[0]!.run(0)).fail(
      new ImageJobError("GPU_UNAVAILABLE", {
        outcomeUnknown: true,
        serverFault: true,
      }),
    );
    const retry = await h.run(1);
    expect(retry.input.request.prompt).toBe(job.request.prompt);
    expect((await h.job(job.id)).attempt).toBe(1);
    retry.succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");
  });

  it("S12 an unreachable server costs the job no attempt; the worker waits longer after each fault", async () => {
    h = await createHarness(memory, {
      breaker: { failureThreshold: 10, retryDelayMs: SECOND },
    });
    const { job } = await h.submit("alice");
    const starts: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const run = await h.run(i);
      starts.push(h.clock.now());
      run.fail(
        new ImageJobError("GPU_UNAVAILABLE", {
          detail: "ECONNREFUSED",
          serverFault: true,
        }),
      );
    }
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    // 1 s, 2 s, 4 s: the pause doubles (to within the 100 ms time steps).
    expect(gaps.map((gap) => Math.round(gap / SECOND))).toEqual([1, 2, 4]);
    const waiting = await h.job(job.id);
    expect(waiting).toMatchObject({ attempt: 1 });
    (await h.run(4)).succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");
  });

  it("S21 out of memory fails the job, not the breaker", async () => {
    h = await createHarness(memory, { breaker: { failureThreshold: 1 } });
    const { job } = await h.submit("alice");
    (await h.backends[0]!.run(0)).fail(
      new ImageJobError("GPU_OUT_OF_MEMORY", { detail: "CUDA out of memory" }),
    );
    await h.until(async () => (await h.job(job.id)).status === "failed");
    expect((await h.job(job.id)).error).toMatchObject({
      code: "GPU_OUT_OF_MEMORY",
      retryable: false,
    });
    expect((await h.job(job.id)).error?.message).toMatch(/smaller size/);
    expect(h.runtime.workers[0]!.breakerState).toBe("closed");
  });

  it("S18 only a cancel call interrupts the GPU, and only for that job", async () => {
    h = await createHarness(memory);
    const a = await h.submit("alice");
    const b = await h.submit("bob");
    const run = await h.backends[0]!.run(0);
    await h.runtime.service.cancel(h.user("alice"), a.job.id);
    await h.until(() => run.interrupted);
    const next = await h.backends[0]!.run(1);
    expect(next.interrupted).toBe(false);
    expect((await h.job(b.job.id)).status).toBe("running");
    expect((await h.job(a.job.id)).status).toBe("cancelled");
  });

  it("close() puts the running job back without spending an attempt and frees the backend", async () => {
    h = await createHarness(memory);
    const { job } = await h.submit("alice");
    const run = await h.backends[0]!.run(0);
    await h.runtime.workers[0]!.close();
    expect(run.interrupted).toBe(true);
    expect(await h.job(job.id)).toMatchObject({ status: "queued", attempt: 1 });
    const lease = await h.stores.jobs.acquireBackend({
      backendId: h.backends[0]!.id,
      queue: "default",
      holder: "next",
      leaseMs: 1000,
      now: h.clock.now(),
    });
    expect(lease).not.toBeNull();
  });

  it("interrupts a task abandoned by a dead holder before starting its own", async () => {
    h = await createHarness(memory, { start: false });
    const gpu = h.backends[0]!;
    const dead = await h.stores.jobs.acquireBackend({
      backendId: gpu.id,
      queue: "default",
      holder: "dead",
      leaseMs: 30_000,
      now: h.clock.now(),
    });
    await h.stores.jobs.renewBackend({
      backendId: gpu.id,
      token: dead!.token,
      taskId: "orphan-task",
      leaseMs: 30_000,
      now: h.clock.now(),
    });
    h.runtime.start();
    await h.until(() => gpu.interruptedTasks.length > 0, { stepMs: SECOND });
    expect(gpu.interruptedTasks).toEqual(["orphan-task"]);
    expect(h.clock.now()).toBeGreaterThanOrEqual(30_000 + Date.UTC(2026, 0, 1));
  });
});
