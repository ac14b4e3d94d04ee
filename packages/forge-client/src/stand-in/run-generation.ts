import type { FifoLock } from "../fifo-lock.js";
import type { ForgeState } from "./forge-state.js";
import { resolveSampler } from "./generation-request.js";
import { renderPng } from "./render-png.js";
import { findModel, STAND_IN_MODELS } from "./stand-in-catalog.js";

/** A Forge 500 body for an exception (FORGE-API.md §9.1). */
export interface ForgeException {
  /** The Python exception class, such as `OutOfMemoryError`. */
  readonly error: string;
  /** `str(e)`. */
  readonly message: string;
}

/** An HTTP answer from a route. */
export interface RouteAnswer {
  /** HTTP status. */
  readonly status: number;
  /** JSON body. */
  readonly body: unknown;
}

/** Thrown inside a job that a restart has thrown away. */
export class JobLost extends Error {}

/** What a generation needs from the stand-in around it. */
export interface GenerationHost {
  /** Forge's shared state. */
  readonly state: ForgeState;
  /** The queue lock. */
  readonly lock: FifoLock;
  /** The settings dict. */
  readonly options: Record<string, unknown>;
  /** Checkpoint loaded on the fake GPU, or null before the first job. */
  loadedModel: string | null;
  /** OOMs since start. */
  oomCount: number;
  /** Model-load delay, ms. */
  readonly modelLoadMs: number;
  /** Step at which the next job fails with OOM, or null. */
  oomAtStep: number | null;
  /** Exceptions the next jobs raise, in order. */
  readonly failures: ForgeException[];
  /** Throws {@link JobLost} when the stand-in restarted since `epoch`. */
  check(epoch: number): void;
  /** The current epoch. */
  readonly epoch: number;
  /** Waits one step's time (and a hold at `step`, if set). */
  step(step: number, epoch: number): Promise<void>;
  /** Waits `ms`, throwing {@link JobLost} on restart. */
  wait(ms: number, epoch: number): Promise<void>;
  /** Tells waiters that the state changed. */
  notify(): void;
  /** A random number in [0, 1). */
  random(): number;
}

class Raised extends Error {
  constructor(readonly exception: ForgeException) {
    super(exception.message);
  }
}

/**
 * Runs one txt2img or img2img job as Forge does: task queued, FIFO lock,
 * `begin`, model load, batches of steps with interrupt and skip checks,
 * images, `end`. Resolves with the HTTP answer.
 */
export async function runGeneration(
  host: GenerationHost,
  kind: "txt2img" | "img2img",
  request: Record<string, unknown>,
  taskId: string,
): Promise<RouteAnswer> {
  const epoch = host.epoch;
  const { state } = host;
  state.addTask(taskId, Date.now());
  host.notify();
  const release = await host.lock.acquire();
  host.check(epoch);
  state.startTask(taskId);
  state.begin(`scripts_${kind}`, Date.now());
  host.notify();
  const restore: Record<string, unknown> = {};
  try {
    const overrides = (request.override_settings ?? {}) as Record<
      string,
      unknown
    >;
    for (const [key, value] of Object.entries(overrides)) {
      if (key === "sd_model_checkpoint" && !findModel(String(value))) continue;
      restore[key] = host.options[key];
      host.options[key] = value;
    }
    const model =
      findModel(String(host.options.sd_model_checkpoint)) ?? STAND_IN_MODELS[0];
    if (host.loadedModel !== model.title) {
      await host.wait(host.modelLoadMs, epoch);
      host.loadedModel = model.title;
    }
    const failure = host.failures.shift();
    if (failure) throw new Raised(failure);
    if (request.steps === null || request.width === null) {
      throw new Raised({
        error: "TypeError",
        message: "unsupported operand type(s) for *: 'NoneType' and 'int'",
      });
    }
    if (request.enable_hr === true && request.hr_additional_modules === null) {
      throw new Raised({
        error: "TypeError",
        message: "argument of type 'NoneType' is not iterable",
      });
    }
    const answer = await sample(host, kind, request, model, epoch);
    state.finishTask(taskId);
    return answer;
  } catch (error) {
    if (error instanceof Raised) {
      return {
        status: 500,
        body: { ...error.exception, detail: "", body: "" },
      };
    }
    throw error;
  } finally {
    if (request.override_settings_restore_afterwards !== false) {
      Object.assign(host.options, restore);
    }
    if (host.epoch === epoch) {
      state.end();
      release();
      host.notify();
    }
  }
}

async function sample(
  host: GenerationHost,
  kind: "txt2img" | "img2img",
  request: Record<string, unknown>,
  model: (typeof STAND_IN_MODELS)[number],
  epoch: number,
): Promise<RouteAnswer> {
  const { state } = host;
  const nIter = Number(request.n_iter);
  const batchSize = Number(request.batch_size);
  const steps = Number(request.steps);
  const samplingSteps =
    kind === "img2img"
      ? Math.max(
          1,
          Math.floor(steps * Number(request.denoising_strength ?? 0.75)),
        )
      : steps;
  const seed =
    Number(request.seed) === -1
      ? Math.floor(host.random() * 4294967294)
      : Number(request.seed);
  const resolved = resolveSampler(
    request.sampler_name,
    request.sampler_index,
    request.scheduler,
  );
  const total = nIter * batchSize;
  const allSeeds = Array.from({ length: total }, (_, i) => seed + i);
  const prompt = String(request.prompt);
  const made: { seed: number; noisy: boolean }[] = [];

  for (let batch = 0; batch < nIter; batch++) {
    if (state.state.interrupted) break;
    Object.assign(state.state, {
      job_count: nIter,
      job_no: batch,
      job: nIter > 1 ? `Batch ${batch + 1} out of ${nIter}` : `scripts_${kind}`,
      sampling_step: 0,
      sampling_steps: samplingSteps,
      skipped: false,
    });
    host.notify();
    let stopped = false;
    for (let step = 1; step <= samplingSteps; step++) {
      if (state.state.interrupted || state.state.skipped) {
        stopped = true;
        break;
      }
      await host.wait(0, epoch);
      state.state.sampling_step = step;
      host.notify();
      if (host.oomAtStep === step) {
        host.oomAtStep = null;
        host.oomCount += 1;
        throw new Raised({
          error: "OutOfMemoryError",
          message:
            "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.02 GiB is free.",
        });
      }
      await host.step(step, epoch);
    }
    for (let i = 0; i < batchSize; i++) {
      made.push({ seed: seed + batch * batchSize + i, noisy: stopped });
    }
    if (state.state.interrupted) break;
  }

  const base = {
    steps,
    sampler: resolved.sampler,
    scheduler: resolved.scheduler,
    cfg: Number(request.cfg_scale),
    distilled: Number(request.distilled_cfg_scale),
    width: Number(request.width),
    height: Number(request.height),
    model,
  };
  const infotexts = made.map((image) =>
    infotext(prompt, String(request.negative_prompt), {
      ...base,
      seed: image.seed,
    }),
  );
  const images: string[] = [];
  if (request.send_images !== false) {
    for (const [i, image] of made.entries()) {
      const png = await renderPng({
        width: base.width,
        height: base.height,
        prompt,
        seed: image.seed,
        noisy: image.noisy,
        parameters: infotexts[i] ?? "",
      });
      host.check(epoch);
      images.push(png.toString("base64"));
    }
  }
  const info = {
    prompt,
    all_prompts: allSeeds.map(() => prompt),
    negative_prompt: request.negative_prompt,
    all_negative_prompts: allSeeds.map(() => request.negative_prompt),
    seed,
    all_seeds: allSeeds,
    subseed: request.subseed,
    all_subseeds: allSeeds.map(() => request.subseed),
    subseed_strength: request.subseed_strength,
    width: base.width,
    height: base.height,
    sampler_name: resolved.sampler,
    cfg_scale: base.cfg,
    steps,
    batch_size: batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: model.model_name,
    sd_model_hash: model.hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: request.denoising_strength ?? null,
    extra_generation_params:
      resolved.scheduler === "Automatic"
        ? {}
        : { "Schedule type": resolved.scheduler },
    index_of_first_image: 0,
    infotexts,
    styles: request.styles ?? [],
    job_timestamp: state.state.job_timestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: "f2.0.1v1.10.1-previous-1-g7a0d8b4",
  };
  const parameters = { ...request };
  if (kind === "img2img" && request.include_init_images !== true) {
    parameters.init_images = null;
    parameters.mask = null;
  }
  return {
    status: 200,
    body: { images, parameters, info: JSON.stringify(info) },
  };
}

function infotext(
  prompt: string,
  negative: string,
  p: {
    steps: number;
    sampler: string;
    scheduler: string;
    cfg: number;
    distilled: number;
    seed: number;
    width: number;
    height: number;
    model: (typeof STAND_IN_MODELS)[number];
  },
): string {
  const fields = [
    `Steps: ${p.steps}`,
    `Sampler: ${p.sampler}`,
    ...(p.scheduler === "Automatic" ? [] : [`Schedule type: ${p.scheduler}`]),
    `CFG scale: ${p.cfg}`,
    `Distilled CFG Scale: ${p.distilled}`,
    `Seed: ${p.seed}`,
    `Size: ${p.width}x${p.height}`,
    `Model hash: ${p.model.hash}`,
    `Model: ${p.model.model_name}`,
    "Version: f2.0.1v1.10.1-previous-1-g7a0d8b4",
  ];
  const negativeLine = negative ? `\nNegative prompt: ${negative}` : "";
  return `${prompt}${negativeLine}\n${fields.join(", ")}`;
}
