import {
  createImageJobs,
  type ImageJobs,
  type JobChangedEvent,
  type JobView,
  MemoryImageStore,
  MemoryMessageStore,
} from "@imagejobs/core";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import { createForgeBackend } from "./create-forge-backend.js";
import {
  type StandInForge,
  startStandInForge,
} from "./stand-in/stand-in-forge.js";

interface Rig {
  readonly server: StandInForge;
  readonly runtime: ImageJobs;
  readonly images: MemoryImageStore;
  readonly messages: MemoryMessageStore;
  readonly seen: JobChangedEvent[];
}

let rig: Rig | null = null;

async function start(
  stepMs = 5,
  breaker?: { failureThreshold: number; openMs: number; retryDelayMs: number },
): Promise<Rig> {
  const server = await startStandInForge({ stepMs });
  const images = new MemoryImageStore();
  const messages = new MemoryMessageStore();
  const runtime = createImageJobs({
    backends: [
      createForgeBackend({
        id: "stand-in",
        baseUrl: server.url,
        progressIntervalMs: 10,
      }),
    ],
    stores: { images, messages },
    limits: { maxQueuedPerOwner: 10, maxAttempts: 2 },
    ...(breaker ? { breaker } : {}),
    progressIntervalMs: 20,
    pollMs: 20,
  });
  const seen: JobChangedEvent[] = [];
  runtime.events.on("job", (event) => seen.push(event));
  runtime.start();
  rig = { server, runtime, images, messages, seen };
  return rig;
}

afterEach(async () => {
  if (!rig) return;
  rig.server.release();
  await rig.runtime.close();
  await rig.server.close();
  rig = null;
});

async function finished(r: Rig, owner: string, jobId: string) {
  for (;;) {
    const { job } = await r.runtime.service.get({ id: owner }, jobId);
    if (["succeeded", "failed", "cancelled"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function submit(r: Rig, owner: string, request: Record<string, unknown>) {
  const messageId = `msg-${Math.random().toString(36).slice(2)}`;
  await r.messages.create(messageId);
  return r.runtime.service.submit(
    { id: owner },
    { conversationId: `conv-${owner}`, messageId, request },
  );
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const history = (r: Rig, jobId: string): JobView[] =>
  r.seen.filter((e) => e.job.id === jobId).map((e) => e.job);

describe("a core worker driving the stand-in Forge", () => {
  it("queues, shows positions and progress, and stores a PNG of the requested size", async () => {
    const r = await start();
    r.server.hold(3);
    const first = await submit(r, "alice", {
      prompt: "a lighthouse",
      width: 320,
      height: 192,
      steps: 8,
    });
    await r.server.waitForState((s) => s.sampling_step === 3);
    const second = await submit(r, "bob", {
      prompt: "a fox",
      width: 256,
      height: 256,
      steps: 6,
    });
    expect(second.position).toMatchObject({ position: 1, queueSize: 1 });
    r.server.release();

    const done = await finished(r, "alice", first.job.id);
    const next = await finished(r, "bob", second.job.id);
    expect([done.status, next.status]).toEqual(["succeeded", "succeeded"]);

    const progress = history(r, first.job.id).flatMap((j) =>
      j.progress ? [j.progress] : [],
    );
    const sampling = progress.filter(
      (p) => p.phase === "sampling" && p.fraction < 1,
    );
    expect(sampling.length).toBeGreaterThan(0);
    expect(sampling.every((p) => p.steps === 8)).toBe(true);
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);

    const image = done.result!.images[0]!;
    expect(image).toMatchObject({
      width: 320,
      height: 192,
      seed: done.request.seed,
    });
    const stored = await r.images.get(image.key);
    const png = PNG.sync.read(Buffer.from(stored!.data));
    expect([png.width, png.height]).toEqual([320, 192]);
    const metadata = (await r.messages.get(done.messageId!))?.metadata
      .image_generation as { status: string; images: { url: string }[] };
    expect(metadata.status).toBe("succeeded");
    expect(metadata.images[0]?.url).toBe(image.url);
  });

  it("S21 an out-of-memory error fails the job with GPU_OUT_OF_MEMORY and the next job runs", async () => {
    const r = await start();
    r.server.failWithOomAtStep(2);
    const oom = await submit(r, "alice", { prompt: "huge", steps: 5 });
    const failed = await finished(r, "alice", oom.job.id);
    expect(failed.error).toMatchObject({
      code: "GPU_OUT_OF_MEMORY",
      retryable: false,
    });
    expect(failed.error?.message).toMatch(/smaller size/);
    expect(r.runtime.workers[0]!.breakerState).toBe("closed");

    const after = await submit(r, "alice", { prompt: "small", steps: 3 });
    expect((await finished(r, "alice", after.job.id)).status).toBe("succeeded");
  });

  it("S22 a proxy's 504 re-queues the job without spending an attempt, once the server is idle", async () => {
    const r = await start(20);
    r.server.setProxyTimeout(60);
    const slow = await submit(r, "alice", { prompt: "slow", steps: 10 });
    // The first attempt's answer is a 504; the render goes on behind it.
    await r.server.waitForState((s) => s.sampling_step >= 5);
    r.server.setProxyTimeout(null);
    const done = await finished(r, "alice", slow.job.id);
    expect(done.status).toBe("succeeded");
    expect(done.attempt).toBe(1);
    const statuses = history(r, slow.job.id).map((j) => j.status);
    expect(
      statuses.filter((s) => s === "queued").length,
    ).toBeGreaterThanOrEqual(2);
    expect(r.server.received.length).toBeGreaterThanOrEqual(2);
  });

  it("S11 a Forge restart mid-job retries the job; it never succeeds without an image", async () => {
    const r = await start();
    r.server.hold(2);
    const job = await submit(r, "alice", { prompt: "restart me", steps: 6 });
    await r.server.waitForState((s) => s.sampling_step === 2);
    await r.server.restart({ downMs: 50 });
    const done = await finished(r, "alice", job.job.id);
    expect(done.status).toBe("succeeded");
    expect(done.result?.images).toHaveLength(1);
    expect(await r.images.get(done.result!.images[0]!.key)).not.toBeNull();
    expect(r.server.received.length).toBeGreaterThanOrEqual(2);
  });

  it("S11 S12 a Forge server that dies mid-render: the job waits, users hear the service is recovering, it runs once the server is back", async () => {
    const r = await start(5, {
      failureThreshold: 3,
      openMs: 300,
      retryDelayMs: 20,
    });
    const service: string[] = [];
    r.runtime.events.on("service", (event) => service.push(event.status));
    const port = r.server.port;
    r.server.hold(2);
    const job = await submit(r, "alice", { prompt: "interrupted", steps: 6 });
    await r.server.waitForState((s) => s.sampling_step === 2);
    await r.server.close();

    // Nothing answers: the job goes back to the queue, the breaker opens.
    await until(() => r.runtime.workers[0]!.breakerState === "open");
    const waiting = await r.runtime.service.get({ id: "alice" }, job.job.id);
    expect(waiting.job).toMatchObject({ status: "queued", attempt: 1 });
    expect(waiting.position?.position).toBe(1);
    await until(() => service.includes("recovering"));

    // The server comes back on its port: one probe, and the job runs.
    rig = { ...r, server: await startStandInForge({ port, stepMs: 5 }) };
    const done = await finished(r, "alice", job.job.id);
    expect(done).toMatchObject({ status: "succeeded", attempt: 1 });
    expect(done.result?.images).toHaveLength(1);
    await until(() => service.at(-1) === "ok");
  });
});
