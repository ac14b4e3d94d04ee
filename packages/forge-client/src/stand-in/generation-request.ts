import { FORGE_SAMPLERS, FORGE_SCHEDULERS } from "../forge-catalog.js";

/** One item of FastAPI's 422 `detail` list. */
export interface ValidationItem {
  /** Pydantic's error type, such as `int_parsing`. */
  type: string;
  /** Where: `["body", field]`. */
  loc: (string | number)[];
  /** Pydantic's message. */
  msg: string;
  /** The value that failed. */
  input: unknown;
}

type Kind = "int" | "float" | "string" | "bool" | "list" | "object";

const FIELDS: Record<string, Kind> = {
  prompt: "string",
  negative_prompt: "string",
  styles: "list",
  seed: "int",
  subseed: "int",
  subseed_strength: "float",
  seed_resize_from_h: "int",
  seed_resize_from_w: "int",
  sampler_name: "string",
  scheduler: "string",
  batch_size: "int",
  n_iter: "int",
  steps: "int",
  cfg_scale: "float",
  distilled_cfg_scale: "float",
  width: "int",
  height: "int",
  restore_faces: "bool",
  tiling: "bool",
  override_settings: "object",
  override_settings_restore_afterwards: "bool",
  enable_hr: "bool",
  denoising_strength: "float",
  hr_scale: "float",
  hr_upscaler: "string",
  hr_second_pass_steps: "int",
  hr_additional_modules: "list",
  hr_cfg: "float",
  hr_distilled_cfg: "float",
  sampler_index: "string",
  script_name: "string",
  script_args: "list",
  send_images: "bool",
  save_images: "bool",
  alwayson_scripts: "object",
  force_task_id: "string",
  init_images: "list",
  include_init_images: "bool",
};

/** API-only fields with plain types: `null` is refused (§4.1). */
const NOT_NULL = new Set([
  "sampler_index",
  "script_args",
  "send_images",
  "save_images",
  "alwayson_scripts",
]);

const DEFAULTS: Record<string, unknown> = {
  prompt: "",
  negative_prompt: "",
  styles: null,
  seed: -1,
  subseed: -1,
  subseed_strength: 0,
  sampler_name: null,
  scheduler: null,
  batch_size: 1,
  n_iter: 1,
  steps: 50,
  cfg_scale: 7,
  distilled_cfg_scale: 3.5,
  width: 512,
  height: 512,
  override_settings: null,
  override_settings_restore_afterwards: true,
  enable_hr: false,
  denoising_strength: null,
  hr_additional_modules: null,
  sampler_index: "Euler",
  script_name: null,
  script_args: [],
  send_images: true,
  save_images: false,
  alwayson_scripts: {},
  force_task_id: null,
};

function coerce(
  field: string,
  kind: Kind,
  value: unknown,
): { value: unknown } | ValidationItem {
  const loc = ["body", field];
  if (value === null && !NOT_NULL.has(field)) return { value };
  switch (kind) {
    case "int": {
      const n = typeof value === "string" ? Number(value) : value;
      if (typeof n !== "number" || Number.isNaN(n) || value === "") {
        return {
          type: "int_parsing",
          loc,
          msg: "Input should be a valid integer, unable to parse string as an integer",
          input: value,
        };
      }
      if (!Number.isInteger(n)) {
        return {
          type: "int_from_float",
          loc,
          msg: "Input should be a valid integer, got a number with a fractional part",
          input: value,
        };
      }
      return { value: n };
    }
    case "float": {
      const n = typeof value === "string" ? Number(value) : value;
      if (typeof n !== "number" || Number.isNaN(n) || value === "") {
        return {
          type: "float_parsing",
          loc,
          msg: "Input should be a valid number, unable to parse string as a number",
          input: value,
        };
      }
      return { value: n };
    }
    case "string":
      return typeof value === "string"
        ? { value }
        : {
            type: "string_type",
            loc,
            msg: "Input should be a valid string",
            input: value,
          };
    case "bool":
      return typeof value === "boolean"
        ? { value }
        : {
            type: "bool_type",
            loc,
            msg: "Input should be a valid boolean",
            input: value,
          };
    case "list":
      return Array.isArray(value)
        ? { value }
        : {
            type: "list_type",
            loc,
            msg: "Input should be a valid list",
            input: value,
          };
    case "object":
      return typeof value === "object" &&
        value !== null &&
        !Array.isArray(value)
        ? { value }
        : {
            type: "dict_type",
            loc,
            msg: "Input should be a valid dictionary",
            input: value,
          };
  }
}

/**
 * Validates a generation body the way Forge's pydantic model does: lax
 * coercion, `null` allowed for processing fields, unknown keys dropped.
 * Returns the request with defaults filled in, or the 422 items.
 */
export function parseGenerationBody(body: unknown):
  | { ok: true; request: Record<string, unknown> }
  | {
      ok: false;
      detail: ValidationItem[];
    } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      detail: [
        {
          type: body === undefined ? "missing" : "model_attributes_type",
          loc: ["body"],
          msg:
            body === undefined
              ? "Field required"
              : "Input should be a valid dictionary or object to extract fields from",
          input: body ?? null,
        },
      ],
    };
  }
  const request: Record<string, unknown> = { ...DEFAULTS };
  const detail: ValidationItem[] = [];
  for (const [field, value] of Object.entries(body)) {
    const kind = FIELDS[field];
    if (!kind) continue;
    const result = coerce(field, kind, value);
    if ("type" in result) detail.push(result);
    else request[field] = result.value;
  }
  return detail.length > 0 ? { ok: false, detail } : { ok: true, request };
}

/** The sampler and scheduler Forge actually uses (FORGE-API.md §4.2). */
export function resolveSampler(
  samplerName: unknown,
  samplerIndex: unknown,
  scheduler: unknown,
): { sampler: string; scheduler: string } {
  let name = String(samplerName || samplerIndex || "Euler");
  let chosen = typeof scheduler === "string" ? scheduler : "";
  for (const entry of FORGE_SCHEDULERS) {
    for (const suffix of [entry.label, entry.name]) {
      if (name.endsWith(` ${suffix}`)) {
        name = name.slice(0, -suffix.length - 1);
        if (!chosen) chosen = entry.label;
      }
    }
  }
  const known = (FORGE_SAMPLERS as readonly string[]).includes(name);
  const match = FORGE_SCHEDULERS.find(
    (entry) => entry.label === chosen || entry.name === chosen,
  );
  return {
    sampler: known ? name : FORGE_SAMPLERS[0],
    scheduler: match ? match.label : "Automatic",
  };
}
