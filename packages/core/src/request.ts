import { type ZodType, z } from "zod";
import { type FieldIssue, ImageJobError } from "./errors.js";

/** An operator's limits on image requests. Every field has a default. */
export interface RequestLimits {
  /** Longest prompt, in characters. @default 2000 */
  readonly maxPromptLength?: number;
  /** Smallest width or height, in pixels. @default 64 */
  readonly minSide?: number;
  /** Largest width or height, in pixels. @default 2048 */
  readonly maxSide?: number;
  /** Width and height must be multiples of this. @default 8 */
  readonly sideMultiple?: number;
  /** Largest width × height × batch size. @default 2_097_152 (2 MP) */
  readonly maxPixels?: number;
  /** Largest number of sampling steps. @default 100 */
  readonly maxSteps?: number;
  /** Largest CFG scale. @default 30 */
  readonly maxCfgScale?: number;
  /** Largest number of images in one request. @default 4 */
  readonly maxBatchSize?: number;
  /**
   * Model presets a user may ask for. Unset: any preset name is passed to
   * the backend, which decides.
   */
  readonly models?: readonly string[];
}

/** The limits used where an operator set none. */
export const DEFAULT_REQUEST_LIMITS: Required<Omit<RequestLimits, "models">> = {
  maxPromptLength: 2000,
  minSide: 64,
  maxSide: 2048,
  sideMultiple: 8,
  maxPixels: 2_097_152,
  maxSteps: 100,
  maxCfgScale: 30,
  maxBatchSize: 4,
};

/** Largest seed; -1 asks for a random one. */
export const MAX_SEED = 4_294_967_295;

/**
 * A validated image request. `seed` is -1 until the service resolves it at
 * submit. `extra` holds the fields a backend declares in its own schema.
 */
export interface ImageRequest {
  /** What to draw. */
  prompt: string;
  /** What to avoid. @default "" */
  negativePrompt: string;
  /** Width in pixels. @default 512 */
  width: number;
  /** Height in pixels. @default 512 */
  height: number;
  /** Sampling steps. @default 20 */
  steps: number;
  /** Classifier-free guidance scale. @default 7 */
  cfgScale: number;
  /** Seed; -1 for a random one. @default -1 */
  seed: number;
  /** Number of images. @default 1 */
  batchSize: number;
  /** Model preset name, when the operator offers several. */
  model?: string;
  /** Backend-specific fields, validated by the backend's schema. */
  extra?: Record<string, unknown>;
}

/** Options of {@link createImageRequestSchema}. */
export interface ImageRequestSchemaOptions {
  /** The operator's limits. */
  readonly limits?: RequestLimits;
  /**
   * The schema of a backend's own fields, kept under `extra` (for Forge:
   * sampler, scheduler, distilled CFG). Should be strict. Unset: `extra` is
   * refused.
   */
  readonly extra?: ZodType<Record<string, unknown>>;
}

/**
 * Builds the zod schema of an image request under an operator's limits.
 * Unknown fields are refused.
 */
export function createImageRequestSchema(
  options: ImageRequestSchemaOptions = {},
): ZodType<ImageRequest> {
  const limits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const multiple = limits.sideMultiple;
  const side = z
    .number()
    .int()
    .min(limits.minSide)
    .max(limits.maxSide)
    .refine((value) => value % multiple === 0, {
      message: `must be a multiple of ${multiple}`,
    });
  const models = options.limits?.models;
  const model =
    models && models.length > 0
      ? z.enum(models as [string, ...string[]])
      : z.string().min(1).max(200);

  return z
    .strictObject({
      prompt: z
        .string()
        .trim()
        .min(1, "must not be empty")
        .max(limits.maxPromptLength),
      negativePrompt: z.string().max(limits.maxPromptLength).default(""),
      width: side.default(512),
      height: side.default(512),
      steps: z.number().int().min(1).max(limits.maxSteps).default(20),
      cfgScale: z.number().min(1).max(limits.maxCfgScale).default(7),
      seed: z.number().int().min(-1).max(MAX_SEED).default(-1),
      batchSize: z.number().int().min(1).max(limits.maxBatchSize).default(1),
      model: model.optional(),
      extra: options.extra
        ? options.extra.optional()
        : z.never({ error: "this backend takes no extra fields" }).optional(),
    })
    .superRefine((request, context) => {
      const pixels = request.width * request.height * request.batchSize;
      // A side already refused on its own needs no second complaint.
      const sidesFit = [request.width, request.height].every(
        (side) => side <= limits.maxSide,
      );
      if (sidesFit && pixels > limits.maxPixels) {
        context.addIssue({
          code: "custom",
          path: ["width"],
          message: `width × height × batchSize is ${pixels}, over the limit of ${limits.maxPixels} pixels`,
        });
      }
    }) as unknown as ZodType<ImageRequest>;
}

/** Turns zod's issues into one issue per named field. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const field = base ? `${base}.${key}` : key;
        issues.push({ field, message: "is not a known field" });
      }
      continue;
    }
    issues.push({ field: base || "(request)", message: plainWords(issue) });
  }
  return issues;
}

/** zod's issue in words a person reads, where zod's own are technical. */
function plainWords(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_big": {
      const unit = issue.origin === "string" ? " characters" : "";
      const bound = issue.inclusive === false ? "less than" : "at most";
      if (issue.origin === "array") {
        return `must have at most ${issue.maximum} items`;
      }
      return `must be ${bound} ${issue.maximum}${unit}`;
    }
    case "too_small": {
      if (issue.origin === "string" && Number(issue.minimum) === 1) {
        return "must not be empty";
      }
      const unit = issue.origin === "string" ? " characters" : "";
      const bound = issue.inclusive === false ? "more than" : "at least";
      return `must be ${bound} ${issue.minimum}${unit}`;
    }
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      if (issue.expected === "int") return "must be a whole number";
      return `must be ${article(issue.expected)} ${issue.expected}`;
    case "invalid_value": {
      const shown = issue.values.slice(0, 12).map((v) => JSON.stringify(v));
      const more = issue.values.length > 12 ? ", …" : "";
      return `must be one of: ${shown.join(", ")}${more}`;
    }
    default:
      return issue.message;
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/**
 * Validates `input` against `schema`; throws INVALID_REQUEST listing each
 * field's problem.
 */
export function parseOrThrow<T>(schema: ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;

  const fields = fieldIssues(result.error);
  throw new ImageJobError("INVALID_REQUEST", {
    fields,
    detail: fields.map((f) => `${f.field}: ${f.message}`).join("; "),
  });
}
