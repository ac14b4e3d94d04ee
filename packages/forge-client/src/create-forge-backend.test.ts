import { Agent } from "node:http";
import {
  createImageRequestSchema,
  type GpuProgress,
  ImageJobError,
  type ImageRequest,
  type Logger,
  parseOrThrow,
} from "@imagejobs/core";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  createForgeBackend,
  type ForgeBackendOptions,
} from "./create-forge-backend.js";
import { forgeRequestExtraSchema } from "./forge-request-extra.js";
import type { StandInForge } from "./stand-in/index.js";
import { useStandIns } from "./stand-in/stand-ins.fixture.js";

const start = useStandIns();

function backendFor(
  server: StandInForge,
  options: Partial<ForgeBackendOptions> = {},
) {
  return createForgeBackend({
    id: "gpu-test",
    baseUrl: server.url,
    progressIntervalMs: 5,
    pollIntervalMs: 10,
    idleTimeoutMs: 5_000,
    ...options,
  });
}

const schema = createImageRequestSchema({ extra: forgeRequestExtraSchema });
function imageRequest(input: Record<string, unknown> = {}): ImageRequest {
  return parseOrThrow(schema, {
    prompt: "a lighthouse at dusk",
    width: 96,
    height: 64,
    steps: 6,
    seed: 42,
    ...input,
  });
}

async function failure(promise: Promise<unknown>): Promise<ImageJobError> {
  try {
    await promise;
  } catch (error) {
    if (ImageJobError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

function run(
  backend: ReturnType<typeof createForgeBackend>,
  request: ImageRequest,
  signal = new AbortController().signal,
) {
  const progress: GpuProgress[] = [];
  const result = backend.generate({
    request,
    taskId: `job-${Math.random().toString(36).slice(2)}`,
    signal,
    onProgress: (p) => progress.push(p),
  });
  return { result, progress };
}

describe("createForgeBackend", () => {
  it("generates real PNGs at the requested size with FLUX presets", async () => {
    const server = await start();
    const backend = backendFor(server);
    const { result } = run(backend, imageRequest({ batchSize: 2 }));
    const { images, info } = await result;
    expect(images).toHaveLength(2);
    for (const [i, image] of images.entries()) {
      const png = PNG.sync.read(Buffer.from(image.data));
      expect([png.width, png.height]).toEqual([96, 64]);
      expect([image.width, image.height, image.contentType]).toEqual([
        96,
        64,
        "image/png",
      ]);
      expect(image.seed).toBe(42 + i);
    }
    expect(info.sampler_name).toBe("Euler");
    const sent = server.received[0] ?? {};
    expect(sent).toMatchObject({
      cfg_scale: 1,
      scheduler: "Simple",
      distilled_cfg_scale: 3.5,
      sampler_name: "Euler",
    });
    expect(String(sent.force_task_id)).toMatch(/^task\(imagejobs-job-/);
  });

  it("S11 a Forge restart mid-job fails the job clearly, never as a success", async () => {
    const server = await start();
    const backend = backendFor(server);
    server.hold(2);
    const { result } = run(backend, imageRequest());
    const failed = failure(result);
    await server.waitForState((s) => s.sampling_step === 2);
    await server.restart({ downMs: 100 });
    const error = await failed;
    expect(error.code).toBe("GPU_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(error.outcomeUnknown).toBe(true);
    expect(server.state().job_count).toBe(0);
    // The restarted server works again.
    const again = await run(backend, imageRequest()).result;
    expect(again.images).toHaveLength(1);
  });

  it("S20 an unknown sampler is refused before queueing, naming the field", async () => {
    const server = await start();
    const backend = backendFor(server);
    const error = await failure(
      Promise.resolve().then(() =>
        parseOrThrow(createImageRequestSchema({ extra: backend.extraSchema }), {
          prompt: "x",
          extra: { sampler: "Euler Ancestral Turbo" },
        }),
      ),
    );
    expect(error.code).toBe("INVALID_REQUEST");
    expect(error.fields.map((f) => f.field)).toEqual(["extra.sampler"]);
    expect(server.received).toHaveLength(0);
  });

  it("S20 a sampler Forge swapped silently fails as GPU_REJECTED, or warns", async () => {
    const server = await start();
    const strict = backendFor(server, { preset: { sampler: "Euler Fancy" } });
    const error = await failure(run(strict, imageRequest()).result);
    expect(error.code).toBe("GPU_REJECTED");
    expect(error.serverFault).toBe(false);
    expect(error.detail).toContain("DPM++ 2M");
    const lenient = backendFor(server, {
      preset: { sampler: "Euler Fancy" },
      onSamplerMismatch: "warn",
    });
    const { info } = await run(lenient, imageRequest()).result;
    expect(info.samplerMismatch).toEqual({
      asked: "Euler Fancy",
      ran: "DPM++ 2M",
    });
  });

  it("S21 out of memory fails with GPU_OUT_OF_MEMORY, not a server fault", async () => {
    const server = await start();
    const backend = backendFor(server);
    server.failWithOomAtStep(3);
    const error = await failure(run(backend, imageRequest()).result);
    expect(error.code).toBe("GPU_OUT_OF_MEMORY");
    expect(error.serverFault).toBe(false);
    expect(error.retryable).toBe(false);
    expect(error.userMessage).toMatch(/smaller size/);
    expect(error.detail).toContain("CUDA out of memory");
    expect(server.oomCount).toBe(1);
  });

  it("S22 a proxy's HTML 504 is an unknown outcome; generate waits for idle", async () => {
    const server = await start();
    let warned!: () => void;
    const sawUnknown = new Promise<void>((resolve) => {
      warned = resolve;
    });
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (_fields, message) => {
        if (message.startsWith("outcome unknown")) warned();
      },
    };
    const backend = backendFor(server, { logger });
    server.setProxyTimeout(50);
    server.hold(2);
    let settled = false;
    const { result } = run(backend, imageRequest());
    result
      .catch(() => {})
      .finally(() => {
        settled = true;
      });
    await sawUnknown;
    expect(settled).toBe(false);
    expect(server.state().job_count).toBe(1);
    server.release();
    const error = await failure(result);
    expect(error.code).toBe("GPU_UNAVAILABLE");
    expect(error.outcomeUnknown).toBe(true);
    expect(error.serverFault).toBe(false);
    expect(error.retryable).toBe(true);
    expect(server.state().job_count).toBe(0);
  });

  it("S23 a slow model load is reported as loading, then sampling", async () => {
    const server = await start({ modelLoadMs: 300 });
    const backend = backendFor(server, {
      models: {
        sdxl: {
          checkpoint: "sdxl_base_1.0",
          preset: { sampler: "DPM++ 2M", scheduler: "Karras" },
        },
      },
    });
    const { result, progress } = run(backend, imageRequest({ model: "sdxl" }));
    await result;
    const phases = progress.map((p) => p.phase);
    const firstSampling = phases.indexOf("sampling");
    const loading = progress.filter((p) => p.phase === "loading");
    expect(loading.length).toBeGreaterThan(3);
    expect(loading.every((p) => p.fraction === 0)).toBe(true);
    expect(firstSampling).toBeGreaterThan(phases.indexOf("loading"));
    const options = await backend.client.getOptions();
    expect(options.sd_model_checkpoint).toBe(
      "sdxl_base_1.0.safetensors [31e35c80fc]",
    );
  });

  for (const mode of ["ui", "api-only"] as const) {
    it(`S24 progress never goes backwards nor reaches 100 % before the result (${mode})`, async () => {
      const server = await start({ mode, stepMs: 15 });
      const backend = backendFor(server);
      const { result, progress } = run(
        backend,
        imageRequest({ extra: { batchCount: 2 } }),
      );
      await result;
      const fractions = progress.map((p) => p.fraction);
      expect(fractions.some((f) => f > 0.5)).toBe(true);
      for (let i = 1; i < fractions.length; i++) {
        expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] ?? 0);
      }
      expect(Math.max(...fractions)).toBeLessThan(1);
    });
  }

  it("S25 dangerous fields never reach the server", async () => {
    const server = await start();
    const backend = backendFor(server);
    const dangerous = {
      script_name: "x/y/z plot",
      alwayson_scripts: { controlnet: { args: [] } },
      override_settings: { sd_model_checkpoint: "other" },
      save_images: true,
      init_images: ["http://169.254.169.254/latest"],
    };
    const refused = await failure(
      Promise.resolve().then(() => imageRequest({ extra: dangerous })),
    );
    expect(refused.code).toBe("INVALID_REQUEST");
    const named = refused.fields.map((f) => f.field);
    for (const key of Object.keys(dangerous)) {
      expect(named).toContain(`extra.${key}`);
    }
    // Even a request that skipped validation is stripped by the builder.
    const smuggled = { ...imageRequest(), ...dangerous } as ImageRequest;
    await run(backend, smuggled).result;
    const sent = server.received[0] ?? {};
    for (const key of Object.keys(dangerous)) {
      if (key === "save_images") expect(sent[key]).toBe(false);
      else expect(sent).not.toHaveProperty(key);
    }
    expect(Object.values(sent)).not.toContain(null);
  });

  it("S26 a 3 s generation finishes with the HTTP stack's timeouts at 1 s", async () => {
    const server = await start({ stepMs: 500 });
    // Node's fetch with undici's headers/body timeouts at 1 s cuts it.
    await fetch(`${server.url}/internal/ping`);
    const key = Symbol.for("undici.globalDispatcher.1");
    const globals = globalThis as unknown as Record<
      symbol,
      { constructor: new (o: object) => unknown }
    >;
    const previous = globals[key];
    const DispatcherAgent = previous?.constructor;
    expect(DispatcherAgent).toBeTypeOf("function");
    globals[key] = new DispatcherAgent!({
      headersTimeout: 1000,
      bodyTimeout: 1000,
    }) as never;
    // An http.Agent with a 1 s socket timeout, as a wrapper would set it.
    const agent = new Agent({ timeout: 1000 });
    try {
      const started = Date.now();
      const cut = await fetch(`${server.url}/sdapi/v1/txt2img`, {
        method: "POST",
        body: JSON.stringify({ prompt: "x", steps: 6, width: 64, height: 64 }),
      }).then(
        () => "answered",
        (error: { cause?: { code?: string } }) => error.cause?.code,
      );
      expect(cut).toBe("UND_ERR_HEADERS_TIMEOUT");
      expect(Date.now() - started).toBeLessThan(2500);
      await server.restart();
      const backend = backendFor(server, { agent, fetch: undefined });
      const generation = run(backend, imageRequest({ steps: 6 })).result;
      const began = Date.now();
      const { images } = await generation;
      expect(images).toHaveLength(1);
      expect(Date.now() - began).toBeGreaterThan(1000);
    } finally {
      globals[key] = previous as never;
      agent.destroy();
    }
  }, 15_000);

  it("abort interrupts on the server and settles only once it is idle", async () => {
    const server = await start();
    const backend = backendFor(server);
    server.hold(2);
    const controller = new AbortController();
    const { result } = run(
      backend,
      imageRequest({ extra: { batchCount: 3 } }),
      controller.signal,
    );
    await server.waitForState((s) => s.sampling_step === 2);
    controller.abort();
    server.release();
    const error = await failure(result);
    expect(error.code).toBe("CANCELLED");
    expect(server.state()).toMatchObject({ job_count: 0, interrupted: true });
  });

  it("health and interrupt of a finished task resolve", async () => {
    const server = await start({ mode: "api-only" });
    const backend = backendFor(server);
    await backend.health();
    await backend.interrupt("gone");
    await backend.waitUntilIdle();
  });
});
