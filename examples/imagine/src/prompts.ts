import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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

/** The prompts of a PartiPrompts-style TSV (a `Prompt` column), in order. */
export function readPromptFile(path: string): string[] {
  const [header, ...rows] = readFileSync(path, "utf8").split(/\r?\n/);
  const column = (header ?? "").split("\t").indexOf("Prompt");
  if (column === -1) {
    throw new Error(`${path} has no "Prompt" column in its first line`);
  }
  return rows
    .map((row) => row.split("\t")[column]?.trim() ?? "")
    .filter((prompt) => prompt.length > 0);
}

/** Prompts from `path`, the default file, or the fallback list. */
export function loadPrompts(path?: string): {
  prompts: string[];
  source: string;
} {
  if (path) return { prompts: readPromptFile(path), source: path };
  if (existsSync(DEFAULT_PROMPTS)) {
    return {
      prompts: readPromptFile(DEFAULT_PROMPTS),
      source: DEFAULT_PROMPTS,
    };
  }
  return { prompts: FALLBACK_PROMPTS, source: "built-in prompts" };
}
