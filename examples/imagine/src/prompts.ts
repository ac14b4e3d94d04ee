import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./cli-options.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Where PartiPrompts lies beside a checkout of this repository. */
export const DEFAULT_PROMPTS = resolve(
  here,
  "../../../../shared/data/PartiPrompts.tsv",
);

/** Used when no prompt file is at hand (a fresh clone without ../shared). */
export const FALLBACK_PROMPTS = [
  "a lighthouse on a cliff at dusk, oil painting",
  "a red fox curled up in fresh snow",
  "a bowl of ramen on a wooden table, studio photo",
  "an astronaut reading a newspaper on a park bench",
  "a watercolor map of an imaginary island",
  "a tiny robot watering a bonsai tree",
  "a cat wearing a knitted scarf, pencil sketch",
  "a city skyline made of stacked books",
];

/**
 * The prompts of a PartiPrompts-style TSV (a `Prompt` column), in order.
 * Throws {@link UsageError} when the file is missing, has no such column,
 * or holds no prompt.
 */
export function readPromptFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new UsageError(`--prompts: no file at ${path}`);
    if (code === "EISDIR") {
      throw new UsageError(`--prompts: ${path} is a folder, not a TSV file`);
    }
    throw new UsageError(`--prompts: cannot read ${path} (${code})`);
  }

  const [header, ...rows] = text.split(/\r?\n/);
  const column = (header ?? "").split("\t").indexOf("Prompt");
  if (column === -1) {
    throw new UsageError(
      `--prompts: ${path} has no "Prompt" column in its first line (a tab-separated header)`,
    );
  }
  const prompts = rows
    .map((row) => row.split("\t")[column]?.trim() ?? "")
    .filter((prompt) => prompt.length > 0);
  if (prompts.length === 0) {
    throw new UsageError(
      `--prompts: ${path} has a "Prompt" column but no prompt in it`,
    );
  }
  return prompts;
}

/** Where a run's prompts come from. */
export interface PromptSource {
  /** Every prompt available, in order. */
  readonly prompts: string[];
  /** The file, or "built-in prompts". */
  readonly source: string;
  /** The source in words for the user, such as "built-in prompts (…)". */
  readonly description: string;
}

/**
 * Prompts from `path`, else from `defaultPath` when it exists, else the
 * fallback list.
 */
export function loadPrompts(
  path?: string,
  defaultPath = DEFAULT_PROMPTS,
): PromptSource {
  if (path) {
    return {
      prompts: readPromptFile(path),
      source: path,
      description: path,
    };
  }
  if (existsSync(defaultPath)) {
    return {
      prompts: readPromptFile(defaultPath),
      source: defaultPath,
      description: `PartiPrompts, ${defaultPath}`,
    };
  }
  const missing = relative(resolve(here, "../../.."), defaultPath);
  return {
    prompts: FALLBACK_PROMPTS,
    source: "built-in prompts",
    description: `built-in prompts (${missing} is not beside the checkout)`,
  };
}

/** One line for the start of a run: where from, asked, available, running. */
export function describeRun(loaded: PromptSource, limit: number): string {
  const available = loaded.prompts.length;
  const running = Math.min(limit, available);
  return `Prompts: ${loaded.description}; ${limit} asked, ${available} available: running ${running}.`;
}
