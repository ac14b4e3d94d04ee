import { type ImageRequest, parseOrThrow } from "@imagejobs/core";
import {
  type ForgeRequestExtra,
  forgeRequestExtraSchema,
} from "./forge-request-extra.js";

/** Fields this library sends to Forge; everything else is dropped (§12). */
export const ALLOWED_PAYLOAD_FIELDS = [
  "prompt",
  "negative_prompt",
  "seed",
  "subseed",
  "subseed_strength",
  "steps",
  "cfg_scale",
  "distilled_cfg_scale",
  "width",
  "height",
  "batch_size",
  "n_iter",
  "sampler_name",
  "scheduler",
  "send_images",
  "save_images",
  "restore_faces",
  "tiling",
  "force_task_id",
] as const;

/** A model family's defaults. */
export interface ForgePreset {
  /** Sampler used when the request names none. */
  readonly sampler?: string;
  /** Scheduler used when the request names none. */
  readonly scheduler?: string;
  /** CFG scale forced for this family (FLUX: 1). */
  readonly cfgScale?: number;
  /** Distilled CFG used when the request names none (FLUX-dev: 3.5). */
  readonly distilledCfgScale?: number;
}

/** FLUX through the API (FORGE-API.md §13). */
export const FLUX_PRESET: ForgePreset = {
  sampler: "Euler",
  scheduler: "Simple",
  cfgScale: 1,
  distilledCfgScale: 3.5,
};

/** Options of {@link buildForgePayload}. */
export interface BuildForgePayloadOptions {
  /** The `force_task_id` this library generated for the call. */
  readonly forceTaskId: string;
  /** Defaults of the model family, such as {@link FLUX_PRESET}. */
  readonly preset?: ForgePreset;
}

/**
 * Builds a txt2img body from a validated request: only allow-listed fields,
 * unset fields omitted (never `null`), and the fields this library owns
 * (`send_images`, `save_images: false`, `force_task_id`) set here. Never
 * sends `script_name`, `alwayson_scripts`, `override_settings`, `infotext`
 * or image URLs, whatever the request holds (S25).
 */
export function buildForgePayload(
  request: ImageRequest,
  options: BuildForgePayloadOptions,
): Record<string, unknown> {
  const extra: ForgeRequestExtra = parseOrThrow(
    forgeRequestExtraSchema,
    request.extra ?? {},
  );
  const preset = options.preset ?? {};
  const candidate: Record<string, unknown> = {
    prompt: request.prompt,
    negative_prompt: request.negativePrompt || undefined,
    seed: request.seed,
    subseed: extra.subseed,
    subseed_strength: extra.subseedStrength,
    steps: request.steps,
    cfg_scale: preset.cfgScale ?? request.cfgScale,
    distilled_cfg_scale: extra.distilledCfgScale ?? preset.distilledCfgScale,
    width: request.width,
    height: request.height,
    batch_size: request.batchSize,
    n_iter: extra.batchCount,
    sampler_name: extra.sampler ?? preset.sampler,
    scheduler: extra.scheduler ?? preset.scheduler,
    send_images: true,
    save_images: false,
    restore_faces: false,
    tiling: false,
    force_task_id: options.forceTaskId,
  };
  const payload: Record<string, unknown> = {};
  for (const field of ALLOWED_PAYLOAD_FIELDS) {
    const value = candidate[field];
    if (value !== undefined && value !== null) payload[field] = value;
  }
  return payload;
}
