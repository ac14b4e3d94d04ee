import { z } from "zod";
import {
  ALLOWED_SAMPLERS,
  FORGE_SCHEDULER_LABELS,
  type ForgeSampler,
  type ForgeScheduler,
} from "./forge-catalog.js";

/**
 * Forge's own request fields, kept under the request's `extra`. Strict:
 * unknown keys are refused, and sampler and scheduler must come from
 * Forge's lists (an unknown name would silently become another one, S20).
 */
export const forgeRequestExtraSchema: z.ZodType<ForgeRequestExtra> =
  z.strictObject({
    /** Sampler name, exactly as Forge lists it. */
    sampler: z
      .enum(ALLOWED_SAMPLERS as [ForgeSampler, ...ForgeSampler[]], {
        error: (issue) =>
          `unknown sampler ${JSON.stringify(issue.input)}; use one of: ${ALLOWED_SAMPLERS.join(", ")}`,
      })
      .optional(),
    /** Scheduler label, such as `Simple` or `Karras`. */
    scheduler: z
      .enum(FORGE_SCHEDULER_LABELS as [ForgeScheduler, ...ForgeScheduler[]], {
        error: (issue) =>
          `unknown scheduler ${JSON.stringify(issue.input)}; use one of: ${FORGE_SCHEDULER_LABELS.join(", ")}`,
      })
      .optional(),
    /** FLUX guidance (`distilled_cfg_scale`), 0 to 30. */
    distilledCfgScale: z.number().min(0).max(30).optional(),
    /** Batches run one after another (`n_iter`), 1 to 4. */
    batchCount: z.number().int().min(1).max(4).optional(),
    /** Variation seed, -1 for random. */
    subseed: z.number().int().min(-1).max(4_294_967_294).optional(),
    /** Variation strength, 0 to 1. */
    subseedStrength: z.number().min(0).max(1).optional(),
  });

/** Forge's own request fields, as {@link forgeRequestExtraSchema} parses. */
export type ForgeRequestExtra = {
  /** Sampler name, exactly as Forge lists it. */
  sampler?: ForgeSampler;
  /** Scheduler label, such as `Simple` or `Karras`. */
  scheduler?: ForgeScheduler;
  /** FLUX guidance (`distilled_cfg_scale`), 0 to 30. */
  distilledCfgScale?: number;
  /** Batches run one after another (`n_iter`), 1 to 4. */
  batchCount?: number;
  /** Variation seed, -1 for random. */
  subseed?: number;
  /** Variation strength, 0 to 1. */
  subseedStrength?: number;
};
