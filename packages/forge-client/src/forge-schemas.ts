import { z } from "zod";

/** `state` of `GET /sdapi/v1/progress`. */
export const progressStateSchema = z.looseObject({
  skipped: z.boolean(),
  interrupted: z.boolean(),
  job: z.string(),
  job_count: z.number(),
  job_timestamp: z.string(),
  job_no: z.number(),
  sampling_step: z.number(),
  sampling_steps: z.number(),
});

/** Body of `GET /sdapi/v1/progress` (FORGE-API.md §6.1). */
export const progressSchema = z.looseObject({
  progress: z.number(),
  eta_relative: z.number(),
  state: progressStateSchema,
  current_image: z.string().nullable().optional(),
  textinfo: z.string().nullable().optional(),
});

/** A parsed `GET /sdapi/v1/progress` body. */
export type ForgeProgress = z.infer<typeof progressSchema>;

/** Body of `POST /internal/progress` (FORGE-API.md §6.3). */
export const taskProgressSchema = z.looseObject({
  active: z.boolean(),
  queued: z.boolean(),
  completed: z.boolean(),
  progress: z.number().nullable().optional(),
  eta: z.number().nullable().optional(),
  textinfo: z.string().nullable().optional(),
});

/** A parsed `POST /internal/progress` body. */
export type ForgeTaskProgress = z.infer<typeof taskProgressSchema>;

/** The keys of the `info` JSON string that the client reads (§4.3). */
export const generationInfoSchema = z.looseObject({
  seed: z.number().optional(),
  all_seeds: z.array(z.number()).optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  sampler_name: z.string().nullable().optional(),
  sd_model_name: z.string().nullable().optional(),
  sd_model_hash: z.string().nullable().optional(),
  job_timestamp: z.string().optional(),
  infotexts: z.array(z.string()).optional(),
  extra_generation_params: z.record(z.string(), z.unknown()).optional(),
});

/** The parsed `info` of a generation. */
export type ForgeGenerationInfo = z.infer<typeof generationInfoSchema>;

/** Body of txt2img and img2img (§4.3); `info` parsed from its string. */
export const generationSchema = z.looseObject({
  images: z
    .array(z.string())
    .nullable()
    .transform((list) => list ?? []),
  parameters: z.record(z.string(), z.unknown()),
  info: z.string().transform((text, context) => {
    try {
      return generationInfoSchema.parse(JSON.parse(text));
    } catch {
      context.addIssue({ code: "custom", message: "info is not JSON" });
      return z.NEVER;
    }
  }),
});

/** A parsed txt2img or img2img answer. */
export type ForgeGeneration = z.infer<typeof generationSchema>;

/** `GET /sdapi/v1/sd-models`. */
export const sdModelsSchema = z.array(
  z.looseObject({
    title: z.string(),
    model_name: z.string(),
    hash: z.string().nullable(),
    sha256: z.string().nullable(),
    filename: z.string(),
  }),
);

/** `GET /sdapi/v1/sd-modules`. */
export const sdModulesSchema = z.array(
  z.looseObject({ model_name: z.string(), filename: z.string() }),
);

/** `GET /sdapi/v1/samplers`. */
export const samplersSchema = z.array(
  z.looseObject({
    name: z.string(),
    aliases: z.array(z.string()),
    options: z.record(z.string(), z.unknown()),
  }),
);

/** `GET /sdapi/v1/schedulers`. */
export const schedulersSchema = z.array(
  z.looseObject({
    name: z.string(),
    label: z.string(),
    aliases: z.array(z.string()).nullable(),
  }),
);

/** `GET /sdapi/v1/options`: a settings dict. */
export const optionsSchema = z.record(z.string(), z.unknown());

/** `GET /sdapi/v1/memory`: each part may be `{ error }` instead. */
export const memorySchema = z.looseObject({
  ram: z.record(z.string(), z.unknown()),
  cuda: z.record(z.string(), z.unknown()),
});
