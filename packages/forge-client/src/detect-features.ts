import { ImageJobError } from "@imagejobs/core";
import type { HttpResponse } from "./http-transport.js";
import { parseForgeError } from "./parse-forge-error.js";

/** What a server turned out to be. */
export interface ForgeFeatures {
  /** `forge` when `/options` has `forge_preset`, else `a1111`. */
  readonly flavour: "forge" | "a1111";
  /** Whether the web UI runs too (`/internal/*` exists; not `--nowebui`). */
  readonly ui: boolean;
  /** Whether `POST /internal/progress` can follow one task. */
  readonly taskProgress: boolean;
  /** Whether `/sdapi/v1/sd-modules` exists (Forge's VAE/text encoders). */
  readonly sdModules: boolean;
}

/**
 * Detects Forge or AUTOMATIC1111, UI or API-only mode, from `GET` calls:
 * `/internal/ping` (404 under `--nowebui`), `/sdapi/v1/options`
 * (`forge_preset` is Forge's) and `/sdapi/v1/sd-modules`.
 */
export async function detectForgeFeatures(
  get: (path: string) => Promise<HttpResponse>,
): Promise<ForgeFeatures> {
  const [ping, options, modules] = await Promise.all([
    get("/internal/ping"),
    get("/sdapi/v1/options"),
    get("/sdapi/v1/sd-modules"),
  ]);
  if (options.status !== 200) {
    throw parseForgeError(options, "GET /sdapi/v1/options");
  }
  let forge = false;
  try {
    forge = "forge_preset" in (JSON.parse(options.text) as object);
  } catch (cause) {
    throw new ImageJobError("GPU_ERROR", {
      detail: "Forge GET /sdapi/v1/options answered a body that is not JSON",
      cause,
      serverFault: true,
    });
  }
  const ui = ping.status === 200;
  return {
    flavour: forge ? "forge" : "a1111",
    ui,
    taskProgress: ui,
    sdModules: modules.status === 200,
  };
}
