/**
 * Forge's sampler names, in the order `GET /sdapi/v1/samplers` lists them
 * (FORGE-API.md §8.3).
 */
export const FORGE_SAMPLERS = [
  "DPM++ 2M",
  "DPM++ SDE",
  "DPM++ 2M SDE",
  "DPM++ 2M SDE Heun",
  "DPM++ 2S a",
  "DPM++ 3M SDE",
  "Euler a",
  "Euler",
  "LMS",
  "Heun",
  "DPM2",
  "DPM2 a",
  "DPM fast",
  "DPM adaptive",
  "Restart",
  "HeunPP2",
  "IPNDM",
  "IPNDM_V",
  "DEIS",
  "DDIM",
  "DDIM CFG++",
  "PLMS",
  "UniPC",
  "LCM",
  "DDPM",
] as const;

/** One of {@link FORGE_SAMPLERS}. */
export type ForgeSampler = (typeof FORGE_SAMPLERS)[number];

/**
 * Samplers a user may pick: Forge's list minus `DPM adaptive`, which
 * ignores `steps` and can run for a very long time (FORGE-API.md §12).
 */
export const ALLOWED_SAMPLERS: readonly ForgeSampler[] = FORGE_SAMPLERS.filter(
  (name) => name !== "DPM adaptive",
);

/**
 * Forge's schedulers as `{ name, label }`, in the order
 * `GET /sdapi/v1/schedulers` lists them (FORGE-API.md §8.4).
 */
export const FORGE_SCHEDULERS = [
  { name: "automatic", label: "Automatic" },
  { name: "uniform", label: "Uniform" },
  { name: "karras", label: "Karras" },
  { name: "exponential", label: "Exponential" },
  { name: "polyexponential", label: "Polyexponential" },
  { name: "sgm_uniform", label: "SGM Uniform" },
  { name: "kl_optimal", label: "KL Optimal" },
  { name: "align_your_steps", label: "Align Your Steps" },
  { name: "simple", label: "Simple" },
  { name: "normal", label: "Normal" },
  { name: "ddim", label: "DDIM" },
  { name: "beta", label: "Beta" },
  { name: "turbo", label: "Turbo" },
  { name: "align_your_steps_GITS", label: "Align Your Steps GITS" },
  { name: "align_your_steps_11", label: "Align Your Steps 11" },
  { name: "align_your_steps_32", label: "Align Your Steps 32" },
] as const;

/** A scheduler label a user may pick, such as `Simple` or `Karras`. */
export type ForgeScheduler = (typeof FORGE_SCHEDULERS)[number]["label"];

/** The scheduler labels, in Forge's order. */
export const FORGE_SCHEDULER_LABELS: readonly ForgeScheduler[] =
  FORGE_SCHEDULERS.map((scheduler) => scheduler.label);
