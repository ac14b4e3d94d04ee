import { Agent } from "node:http";
import { ImageJobError } from "@imagejobs/core";
import { describe, expect, it } from "vitest";
import { FORGE_SAMPLERS } from "./forge-catalog.js";
import { createForgeClient } from "./forge-client.js";
import { useStandIns } from "./stand-in/stand-ins.fixture.js";

const start = useStandIns();

describe("createForgeClient", () => {
  it("reads listings, options and memory through zod", async () => {
    const server = await start();
    const client = createForgeClient({ baseUrl: server.url });
    expect((await client.samplers()).map((s) => s.name)).toEqual([
      ...FORGE_SAMPLERS,
    ]);
    expect((await client.schedulers()).map((s) => s.label)).toContain("Simple");
    expect((await client.sdModels()).length).toBeGreaterThanOrEqual(2);
    expect((await client.sdModules()).map((m) => m.model_name)).toContain(
      "ae.safetensors",
    );
    expect((await client.memory()).cuda).toHaveProperty("events");
    expect(await client.features()).toEqual({
      flavour: "forge",
      ui: true,
      taskProgress: true,
      sdModules: true,
    });
    await client.health();
  });

  it("detects API-only mode and falls back from per-task progress", async () => {
    const server = await start({ mode: "api-only", apiAuth: "ann:pw" });
    const client = createForgeClient({
      baseUrl: server.url,
      auth: { username: "ann", password: "pw" },
    });
    expect((await client.features()).ui).toBe(false);
    expect(await client.taskProgress("task(x)")).toBeNull();
    await client.health();
    const anonymous = createForgeClient({ baseUrl: server.url });
    const error = await anonymous.progress().catch((e: unknown) => e);
    expect(ImageJobError.isInstance(error) && error.code).toBe(
      "GPU_UNAVAILABLE",
    );
  });

  it("interrupt is confirmed by the server going idle", async () => {
    const server = await start();
    const client = createForgeClient({
      baseUrl: server.url,
      pollIntervalMs: 10,
    });
    server.hold(2);
    const job = client.txt2img({
      prompt: "x",
      steps: 5,
      width: 64,
      height: 64,
      n_iter: 3,
    });
    await server.waitForState((s) => s.sampling_step === 2);
    const interrupted = client.interrupt();
    server.release();
    await interrupted;
    expect(server.state().job_count).toBe(0);
    expect((await job).images).toHaveLength(1);
  });

  it("maps a bad option write to GPU_REJECTED and a refused port to GPU_UNAVAILABLE", async () => {
    const server = await start();
    const client = createForgeClient({ baseUrl: server.url });
    const bad = await client
      .setOptions({ sd_model_checkpoint: "nope" })
      .catch((e: unknown) => e);
    expect(ImageJobError.isInstance(bad) && bad.code).toBe("GPU_REJECTED");
    await server.close();
    const fresh = createForgeClient({
      baseUrl: server.url,
      agent: new Agent({ keepAlive: false }),
    });
    const down = await fresh.progress().catch((e: unknown) => e);
    expect(
      ImageJobError.isInstance(down) && [down.code, down.outcomeUnknown],
    ).toEqual(["GPU_UNAVAILABLE", false]);
  });

  it("a per-call deadline ends a hung generation as an unknown outcome", async () => {
    const server = await start();
    const client = createForgeClient({ baseUrl: server.url });
    server.hangNextGeneration();
    const error = await client
      .txt2img({ prompt: "x", steps: 2 }, { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(
      ImageJobError.isInstance(error) && [error.code, error.outcomeUnknown],
    ).toEqual(["GPU_ERROR", true]);
  });
});
