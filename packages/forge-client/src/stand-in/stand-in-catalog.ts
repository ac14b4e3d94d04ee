import { FORGE_SAMPLERS, FORGE_SCHEDULERS } from "../forge-catalog.js";

/** The stand-in's checkpoints, as `GET /sdapi/v1/sd-models` lists them. */
export const STAND_IN_MODELS = [
  {
    title: "flux1-dev-bnb-nf4-v2.safetensors [f0770152fc]",
    model_name: "flux1-dev-bnb-nf4-v2",
    hash: "f0770152fc",
    sha256: "f0770152fc8a2d4f3a6ff6d1bd0bc5a4d7d7c6f32aa9e6fd5f1ad4ab3e0e1c9f",
    filename: "/forge/models/Stable-diffusion/flux1-dev-bnb-nf4-v2.safetensors",
    config: null,
  },
  {
    title: "sdxl_base_1.0.safetensors [31e35c80fc]",
    model_name: "sdxl_base_1.0",
    hash: "31e35c80fc",
    sha256: "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b",
    filename: "/forge/models/Stable-diffusion/sdxl_base_1.0.safetensors",
    config: null,
  },
] as const;

/** The stand-in's VAEs and text encoders (`GET /sdapi/v1/sd-modules`). */
export const STAND_IN_MODULES = [
  {
    model_name: "ae.safetensors",
    filename: "/forge/models/VAE/ae.safetensors",
  },
  {
    model_name: "clip_l.safetensors",
    filename: "/forge/models/text_encoder/clip_l.safetensors",
  },
  {
    model_name: "t5xxl_fp16.safetensors",
    filename: "/forge/models/text_encoder/t5xxl_fp16.safetensors",
  },
] as const;

/** Every name `sd_model_checkpoint` accepts for a model (its aliases). */
export function findModel(name: string) {
  return STAND_IN_MODELS.find((model) =>
    [
      model.title,
      model.model_name,
      `${model.model_name}.safetensors`,
      model.hash,
      model.sha256,
    ].includes(name),
  );
}

/** A fresh settings dict, as `GET /sdapi/v1/options` returns it. */
export function defaultOptions(): Record<string, unknown> {
  return {
    sd_model_checkpoint: STAND_IN_MODELS[0].title,
    sd_checkpoint_hash: STAND_IN_MODELS[0].sha256,
    forge_additional_modules: [],
    forge_unet_storage_dtype: "Automatic",
    forge_inference_memory: 1024,
    forge_async_loading: "Queue",
    forge_pin_shared_memory: "CPU",
    forge_preset: "flux",
    CLIP_stop_at_last_layers: 1,
    samples_format: "png",
    enable_pnginfo: true,
    live_previews_enable: true,
    show_progress_every_n_steps: 10,
    face_restoration: false,
    tiling: false,
    api_enable_requests: true,
    api_forbid_local_requests: true,
    api_useragent: "",
  };
}

/** `GET /sdapi/v1/samplers`. */
export function samplerList(): unknown[] {
  return FORGE_SAMPLERS.map((name) => ({
    name,
    aliases: [`k_${name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`],
    options: name === "DPM++ 2M" ? { scheduler: "karras" } : {},
  }));
}

/** `GET /sdapi/v1/schedulers`. */
export function schedulerList(): unknown[] {
  return FORGE_SCHEDULERS.map((entry) => ({
    name: entry.name,
    label: entry.label,
    aliases: entry.name === "sgm_uniform" ? ["SGMUniform"] : null,
    default_rho:
      entry.name === "karras" ? 7 : entry.name === "polyexponential" ? 1 : -1,
    need_inner_model: false,
  }));
}

/** `GET /sdapi/v1/memory` with a CUDA shape and the given OOM count. */
export function memoryBody(oom: number): unknown {
  const gib = 1024 ** 3;
  const pair = { current: 2 * gib, peak: 6 * gib };
  return {
    ram: { free: 20 * gib, used: 12 * gib, total: 32 * gib },
    cuda: {
      system: { free: 10 * gib, used: 14 * gib, total: 24 * gib },
      active: pair,
      allocated: pair,
      reserved: { current: 8 * gib, peak: 10 * gib },
      inactive: { current: 0, peak: gib },
      events: { retries: 0, oom },
    },
  };
}
