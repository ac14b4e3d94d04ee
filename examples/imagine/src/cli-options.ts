import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  createImageRequestSchema,
  ImageJobError,
  parseOrThrow,
} from "@imagejobs/core";

/** A mistake on the command line; the CLI prints its message, no stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** What `pnpm imagine` was asked to do. */
export interface ImagineOptions {
  /** Print the usage and stop. */
  readonly help: boolean;
  /** The prompt file, absolute; unset: PartiPrompts or the built-in list. */
  readonly prompts: string | undefined;
  /** How many prompts to run. */
  readonly limit: number;
  /** Simulated users. */
  readonly users: number;
  /** Stand-in Forge servers to start when no `forgeUrls` are given. */
  readonly gpus: number;
  /** Real Forge servers. */
  readonly forgeUrls: string[];
  /** Where images and the summary go, absolute. */
  readonly out: string;
  /** Sampling steps per image. */
  readonly steps: number;
  /** Width and height, px. */
  readonly size: number;
  /** Stand-in time per step, ms. */
  readonly stepMs: number;
}

/** The usage text of `pnpm imagine --help`. */
export const USAGE = `pnpm imagine [options]

  --prompts FILE     prompts (a TSV with a Prompt column); default PartiPrompts
                     in ../shared/data, else a few built-in prompts
  --limit N          how many prompts to run (default 20)
  --users U          simulated users, each on its own WebSocket (default 4)
  --gpus G           stand-in Forge servers to start (default 2)
  --forge-url URL    use a real Forge server instead (repeat for several)
  --out DIR          where the PNGs, summary.json and summary.txt go
                     (default out/imagine)
  --steps N          sampling steps per image (default 12)
  --size PX          width and height (default 384)
  --step-ms MS       stand-in time per step (default 40)
  -h, --help         this text

Relative paths are read from the folder you ran the command in.
`;

const OPTIONS = {
  prompts: { type: "string" },
  limit: { type: "string", default: "20" },
  users: { type: "string", default: "4" },
  gpus: { type: "string", default: "2" },
  "forge-url": { type: "string", multiple: true },
  out: { type: "string", default: "out/imagine" },
  steps: { type: "string", default: "12" },
  size: { type: "string", default: "384" },
  "step-ms": { type: "string", default: "40" },
  help: { type: "boolean", short: "h" },
} as const;

/** Which option sets each field of the image request. */
const OPTION_OF_FIELD: Record<string, string> = {
  width: "--size",
  height: "--size",
  steps: "--steps",
};

/**
 * Reads the command line. Relative paths resolve against `cwd`, the folder
 * the user ran the command in. Throws {@link UsageError} with one line.
 */
export function readImagineOptions(
  argv: readonly string[],
  cwd: string,
): ImagineOptions {
  // Not strict: each mistake is reported below in the option's own words.
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new UsageError(
        `unexpected argument "${token.value}" (options start with --; see --help)`,
      );
    }
    if (token.kind !== "option") continue;
    const option = OPTIONS[token.name as keyof typeof OPTIONS];
    if (!option) {
      throw new UsageError(`unknown option ${token.rawName} (see --help)`);
    }
    if (option.type === "string" && token.value === undefined) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (option.type === "boolean" && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value`);
    }
  }
  if (values.help) return { ...defaults(cwd), help: true };

  const text = (name: keyof typeof OPTIONS) => values[name] as string;
  const options: ImagineOptions = {
    help: false,
    prompts:
      values.prompts === undefined ? undefined : resolve(cwd, text("prompts")),
    limit: wholeNumber("limit", text("limit"), 1),
    users: wholeNumber("users", text("users"), 1),
    gpus: wholeNumber("gpus", text("gpus"), 1),
    forgeUrls: (values["forge-url"] as string[] | undefined) ?? [],
    out: resolve(cwd, text("out")),
    steps: wholeNumber("steps", text("steps"), 1),
    size: wholeNumber("size", text("size"), 1),
    stepMs: wholeNumber("step-ms", text("step-ms"), 0),
  };
  for (const url of options.forgeUrls) {
    if (!/^https?:\/\/[^/]/.test(url)) {
      throw new UsageError(`--forge-url must be an http(s) URL, got "${url}"`);
    }
  }
  checkRequest(options);
  return options;
}

function defaults(cwd: string): ImagineOptions {
  return {
    help: false,
    prompts: undefined,
    limit: 20,
    users: 4,
    gpus: 2,
    forgeUrls: [],
    out: resolve(cwd, "out/imagine"),
    steps: 12,
    size: 384,
    stepMs: 40,
  };
}

function wholeNumber(name: string, value: string, min: number): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < min) {
    throw new UsageError(
      `--${name} must be a whole number of at least ${min}, got "${value}"`,
    );
  }
  return parsed;
}

/**
 * Checks the image request the run will send against core's request
 * schema, so a bad `--size` or `--steps` stops the run before any server
 * starts, with each field's problem named by its option.
 */
function checkRequest(options: ImagineOptions): void {
  try {
    parseOrThrow(createImageRequestSchema(), {
      prompt: "a check of the options",
      steps: options.steps,
      width: options.size,
      height: options.size,
    });
  } catch (error) {
    if (!(error instanceof ImageJobError)) throw error;
    const problems = new Set(
      error.fields.map((issue) => {
        const option = OPTION_OF_FIELD[issue.field] ?? issue.field;
        const value = option === "--steps" ? options.steps : options.size;
        return `${option} ${value}: ${issue.message}`;
      }),
    );
    throw new UsageError([...problems].join("; "));
  }
}
