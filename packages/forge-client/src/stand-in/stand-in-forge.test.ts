import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { StandInForge } from "./index.js";
import { useStandIns } from "./stand-ins.fixture.js";

const start = useStandIns();

async function post(server: StandInForge, path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test reads JSON freely
  return { status: response.status, body: (await response.json()) as any };
}

async function get(server: StandInForge, path: string, headers = {}) {
  const response = await fetch(`${server.url}${path}`, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: test reads JSON freely
  return { status: response.status, body: (await response.json()) as any };
}

/** Reads every tEXt chunk of a PNG, independently of the encoder. */
function textChunks(png: Buffer): Record<string, string> {
  const chunks: Record<string, string> = {};
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    if (type === "tEXt") {
      const data = png.subarray(offset + 8, offset + 8 + length);
      const zero = data.indexOf(0);
      chunks[data.toString("latin1", 0, zero)] = data.toString(
        "latin1",
        zero + 1,
      );
    }
    offset += 12 + length;
  }
  return chunks;
}

const job = {
  prompt: "a red fox in snow",
  steps: 6,
  width: 96,
  height: 64,
  seed: 1234,
  sampler_name: "Euler",
  scheduler: "Simple",
};

describe("stand-in Forge", () => {
  it("makes real PNGs at the requested size with a parameters chunk", async () => {
    const server = await start();
    const result = await post(server, "/sdapi/v1/txt2img", {
      ...job,
      batch_size: 2,
    });
    expect(result.status).toBe(200);
    expect(result.body.images).toHaveLength(2);
    const bytes = Buffer.from(result.body.images[0], "base64");
    const decoded = PNG.sync.read(bytes);
    expect([decoded.width, decoded.height]).toEqual([96, 64]);
    const parameters = textChunks(bytes).parameters ?? "";
    expect(parameters).toContain("a red fox in snow");
    expect(parameters).toContain("Seed: 1234");
    expect(parameters).toContain("Size: 96x64");
    expect(typeof result.body.info).toBe("string");
    const info = JSON.parse(result.body.info);
    expect(info.all_seeds).toEqual([1234, 1235]);
    expect(info.sampler_name).toBe("Euler");
    expect(info.extra_generation_params["Schedule type"]).toBe("Simple");
    expect(result.body.parameters.steps).toBe(6);
    expect(result.body.parameters.cfg_scale).toBe(7);
  });

  it("gives the same bytes for the same request", async () => {
    const server = await start();
    const a = await post(server, "/sdapi/v1/txt2img", job);
    const b = await post(server, "/sdapi/v1/txt2img", job);
    const c = await post(server, "/sdapi/v1/txt2img", { ...job, seed: 9 });
    expect(a.body.images[0]).toBe(b.body.images[0]);
    expect(c.body.images[0]).not.toBe(a.body.images[0]);
  });

  it("falls back to DPM++ 2M for an unknown sampler, silently", async () => {
    const server = await start();
    const result = await post(server, "/sdapi/v1/txt2img", {
      ...job,
      sampler_name: "Euler Ancestral Turbo",
    });
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body.info).sampler_name).toBe("DPM++ 2M");
  });

  it("reports progress with the 0.01 floor and Forge's formula", async () => {
    const server = await start();
    server.hold(3, 1);
    const pending = post(server, "/sdapi/v1/txt2img", {
      ...job,
      steps: 4,
      n_iter: 2,
      force_task_id: "task(a)",
    });
    await server.waitForState((s) => s.job_no === 1 && s.sampling_step === 3);
    const progress = await get(server, "/sdapi/v1/progress");
    // 0.01 + 1/2 + (1/2) * 3/4
    expect(progress.body.progress).toBeCloseTo(0.01 + 0.5 + 0.375, 10);
    expect(progress.body.state.job).toBe("Batch 2 out of 2");
    expect(progress.body).not.toHaveProperty("current_task");
    const task = await post(server, "/internal/progress", {
      id_task: "task(a)",
    });
    expect(task.body).toMatchObject({ active: true, queued: false });
    expect(task.body.progress).toBeCloseTo(0.875, 10);
    server.release();
    await pending;
    const idle = await get(server, "/sdapi/v1/progress");
    expect(idle.body.progress).toBe(0);
    expect(idle.body.state).toMatchObject({
      job_count: 0,
      job: "",
      sampling_step: 4,
    });
    const done = await post(server, "/internal/progress", {
      id_task: "task(a)",
    });
    expect(done.body.completed).toBe(true);
  });

  it("runs one job at a time in arrival order and shows the queue", async () => {
    const server = await start();
    server.hold(2);
    const first = post(server, "/sdapi/v1/txt2img", {
      ...job,
      force_task_id: "one",
    });
    await server.waitForState((s) => s.sampling_step === 2);
    const second = post(server, "/sdapi/v1/txt2img", {
      ...job,
      force_task_id: "two",
    });
    const third = post(server, "/sdapi/v1/txt2img", {
      ...job,
      force_task_id: "three",
    });
    let pending = await get(server, "/internal/pending-tasks");
    while (pending.body.size < 2)
      pending = await get(server, "/internal/pending-tasks");
    expect(pending.body.tasks).toEqual(["two", "three"]);
    const queued = await post(server, "/internal/progress", {
      id_task: "three",
    });
    expect(queued.body).toMatchObject({
      queued: true,
      textinfo: "In queue: 2/2",
    });
    server.release();
    const stamps = await Promise.all([first, second, third]).then((all) =>
      all.map((r) => JSON.parse(r.body.info).job_timestamp),
    );
    expect(new Set(stamps).size).toBe(3);
    expect([...stamps].sort()).toEqual(stamps);
  });

  it("interrupt returns 200 with the partial image; early interrupt returns none", async () => {
    const server = await start();
    server.hold(2);
    const pending = post(server, "/sdapi/v1/txt2img", { ...job, n_iter: 3 });
    await server.waitForState((s) => s.sampling_step === 2);
    expect((await post(server, "/sdapi/v1/interrupt", {})).body).toEqual({});
    server.release();
    const result = await pending;
    expect(result.status).toBe(200);
    expect(result.body.images).toHaveLength(1);
    expect(JSON.parse(result.body.info).all_seeds).toHaveLength(3);
    expect(server.state().interrupted).toBe(true);

    server.setModelLoadMs(300);
    const loading = post(server, "/sdapi/v1/txt2img", job);
    await server.waitForState((s) => s.job_count === -1);
    await post(server, "/sdapi/v1/interrupt", {});
    const early = await loading;
    expect(early.status).toBe(200);
    expect(early.body.images).toEqual([]);
  });

  it("skip ends the current batch and goes on", async () => {
    const server = await start();
    server.hold(1, 0);
    const pending = post(server, "/sdapi/v1/txt2img", { ...job, n_iter: 2 });
    await server.waitForState((s) => s.sampling_step === 1 && s.job_no === 0);
    expect((await post(server, "/sdapi/v1/skip", {})).body).toBeNull();
    server.release();
    const result = await pending;
    expect(result.body.images).toHaveLength(2);
    const full = await post(server, "/sdapi/v1/txt2img", { ...job, n_iter: 2 });
    // The skipped first batch ends early with a noisy image; the second
    // batch is complete and equals an unskipped run's.
    expect(result.body.images[0]).not.toBe(full.body.images[0]);
    expect(result.body.images[1]).toBe(full.body.images[1]);
  });

  it("answers Forge's error shapes", async () => {
    const server = await start();
    const invalid = await post(server, "/sdapi/v1/txt2img", { steps: "abc" });
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail[0]).toMatchObject({
      type: "int_parsing",
      loc: ["body", "steps"],
    });
    const fraction = await post(server, "/sdapi/v1/txt2img", { steps: 20.5 });
    expect(fraction.body.detail[0].type).toBe("int_from_float");
    const broken = await post(server, "/sdapi/v1/txt2img", "{not json");
    expect(broken.body.detail[0].type).toBe("json_invalid");
    const noInit = await post(server, "/sdapi/v1/img2img", { prompt: "x" });
    expect(noInit).toEqual({
      status: 404,
      body: { detail: "Init image not found" },
    });
    const nullSteps = await post(server, "/sdapi/v1/txt2img", {
      ...job,
      steps: null,
    });
    expect(nullSteps.status).toBe(500);
    expect(nullSteps.body).toMatchObject({
      error: "TypeError",
      detail: "",
      body: "",
    });
    const hires = await post(server, "/sdapi/v1/txt2img", {
      ...job,
      enable_hr: true,
    });
    expect(hires.body.message).toBe(
      "argument of type 'NoneType' is not iterable",
    );
    server.failWithOomAtStep(2);
    const oom = await post(server, "/sdapi/v1/txt2img", job);
    expect(oom.status).toBe(500);
    expect(oom.body.error).toBe("OutOfMemoryError");
    expect(oom.body.message).toMatch(/^CUDA out of memory\./);
    const memory = await get(server, "/sdapi/v1/memory");
    expect(memory.body.cuda.events.oom).toBe(1);
    expect((await get(server, "/sdapi/v1/nothing")).body).toEqual({
      detail: "Not Found",
    });
  });

  it("validates option writes like Forge", async () => {
    const server = await start();
    const bad = await post(server, "/sdapi/v1/options", {
      sd_model_checkpoint: "nope",
    });
    expect(bad.status).toBe(500);
    expect(bad.body).toMatchObject({
      error: "RuntimeError",
      message: "model 'nope' not found",
    });
    const unknown = await post(server, "/sdapi/v1/options", {
      not_a_setting: 1,
    });
    expect(unknown.body.error).toBe("KeyError");
    const ok = await post(server, "/sdapi/v1/options", {
      sd_model_checkpoint: "sdxl_base_1.0",
      forge_additional_modules: ["ae.safetensors", "nonsense.safetensors"],
    });
    expect(ok).toEqual({ status: 200, body: null });
    const options = await get(server, "/sdapi/v1/options");
    expect(options.body.sd_model_checkpoint).toBe(
      "sdxl_base_1.0.safetensors [31e35c80fc]",
    );
    expect(options.body.forge_additional_modules).toEqual([
      "/forge/models/VAE/ae.safetensors",
    ]);
  });

  it("api-only mode has no /internal routes, and --api-auth covers /sdapi only", async () => {
    const server = await start({ mode: "api-only", apiAuth: "ann:secret" });
    expect((await get(server, "/internal/ping")).status).toBe(404);
    const denied = await get(server, "/sdapi/v1/progress");
    expect(denied).toEqual({
      status: 401,
      body: { detail: "Not authenticated" },
    });
    const wrong = await get(server, "/sdapi/v1/progress", {
      authorization: `Basic ${Buffer.from("ann:nope").toString("base64")}`,
    });
    expect(wrong.body.detail).toBe("Incorrect username or password");
    const right = await get(server, "/sdapi/v1/progress", {
      authorization: `Basic ${Buffer.from("ann:secret").toString("base64")}`,
    });
    expect(right.status).toBe(200);
    expect((await get(server, "/sdapi/v1/loras")).status).toBe(200);
  });

  it("restart drops the running job and forgets everything", async () => {
    const server = await start();
    server.hold(2);
    const pending = post(server, "/sdapi/v1/txt2img", job).catch((e) => e);
    await server.waitForState((s) => s.sampling_step === 2);
    await server.restart();
    expect(await pending).toBeInstanceOf(Error);
    const progress = await get(server, "/sdapi/v1/progress");
    expect(progress.body.state).toMatchObject({
      job_count: 0,
      job_timestamp: "0",
    });
    expect((await post(server, "/sdapi/v1/txt2img", job)).status).toBe(200);
  });

  it("keeps serving progress while encoding a large image", async () => {
    const server = await start({ stepMs: 0 });
    const pending = post(server, "/sdapi/v1/txt2img", {
      ...job,
      steps: 1,
      width: 1024,
      height: 1024,
    });
    await server.waitForState((s) => s.sampling_step === 1);
    const started = Date.now();
    await get(server, "/sdapi/v1/progress");
    expect(Date.now() - started).toBeLessThan(150);
    expect((await pending).status).toBe(200);
  });
});
