import { parseArgs } from "node:util";
import { type StandInForge, startStandInForge } from "./stand-in-forge.js";

/** The usage text of `pnpm forge:stand-in --help`. */
export const STAND_IN_USAGE = `pnpm forge:stand-in [options]

Starts one stand-in Forge server that makes real PNGs, with no GPU.

  --port N                 port to listen on, 0 for any free one
                           (default 7860; 7861 with --nowebui)
  --listen                 listen on every address (0.0.0.0), not only 127.0.0.1
  --nowebui                API only, like Forge's --nowebui (no /internal routes)
  --api-auth USER:PASS     require HTTP basic auth, like Forge's --api-auth
  --step-ms MS             time per sampling step (default 50)
  --model-load-ms MS       time to load the model on the first job (default 0)
  --max-threads N          handler threads before requests wait (default 40)
  --oom-at-step N          the next job fails with CUDA out of memory at step N
  --fail-next ERROR:MSG    the next job raises ERROR with MSG (a Forge 500)
  --reset-next             cut the connection of the next generation request
  --hang-next              never answer the next generation request
  --proxy-timeout-ms MS    a proxy in front answers 504 after MS; the job goes on
  -h, --help               this text
`;

const OPTIONS = {
  port: { type: "string" },
  listen: { type: "boolean" },
  nowebui: { type: "boolean" },
  "api-auth": { type: "string" },
  "step-ms": { type: "string" },
  "model-load-ms": { type: "string" },
  "max-threads": { type: "string" },
  "oom-at-step": { type: "string" },
  "fail-next": { type: "string" },
  "reset-next": { type: "boolean" },
  "hang-next": { type: "boolean" },
  "proxy-timeout-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type StringOption = {
  [name in keyof typeof OPTIONS]: (typeof OPTIONS)[name]["type"] extends "string"
    ? name
    : never;
}[keyof typeof OPTIONS];

/** A mistake on the command line, told in one line. */
class UsageError extends Error {}

/**
 * Runs the stand-in from the command line (see {@link STAND_IN_USAGE}).
 * A mistake, such as a bad or busy port, prints one line to stderr and
 * sets the exit code to 2; SIGINT and SIGTERM close the server and exit 0.
 */
export async function runStandInCli(argv: string[]): Promise<void> {
  let server: StandInForge;
  try {
    const started = await start(argv);
    if (!started) return;
    server = started;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stand-in: ${message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
    return;
  }

  const stop = () => void server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.stdout.write(`stand-in Forge listening on ${server.url}\n`);
}

/** Starts the server the options describe; null after printing usage. */
async function start(argv: string[]): Promise<StandInForge | null> {
  const values = readOptions(argv);
  if (values.help) {
    process.stdout.write(STAND_IN_USAGE);
    return null;
  }

  const apiOnly = values.nowebui === true;
  const port =
    number("port", values.port, 0, 65_535) ?? (apiOnly ? 7861 : 7860);
  const apiAuth = values["api-auth"];
  if (
    apiAuth !== undefined &&
    !/^[^:,]+:[^,]*(,[^:,]+:[^,]*)*$/.test(apiAuth)
  ) {
    throw new UsageError(
      `--api-auth must look like user:pass (several: u1:p1,u2:p2), got "${apiAuth}"`,
    );
  }
  const oomAtStep = number("oom-at-step", values["oom-at-step"], 1);
  const proxyTimeoutMs = number(
    "proxy-timeout-ms",
    values["proxy-timeout-ms"],
    1,
  );
  const host = values.listen ? "0.0.0.0" : "127.0.0.1";

  let server: StandInForge;
  try {
    server = await startStandInForge({
      port,
      host,
      mode: apiOnly ? "api-only" : "ui",
      stepMs: number("step-ms", values["step-ms"], 0) ?? 50,
      modelLoadMs: number("model-load-ms", values["model-load-ms"], 0) ?? 0,
      maxThreads: number("max-threads", values["max-threads"], 1) ?? 40,
      ...(apiAuth ? { apiAuth } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new UsageError(
        `port ${port} is already in use; stop what listens there or pick another with --port`,
      );
    }
    if (code === "EACCES") {
      throw new UsageError(
        `port ${port} on ${host} needs more rights than this user has; pick one above 1023 with --port`,
      );
    }
    throw error;
  }

  if (oomAtStep !== undefined) server.failWithOomAtStep(oomAtStep);
  if (values["fail-next"]) {
    const [error, ...message] = values["fail-next"].split(":");
    server.failNextJob({
      error: error || "RuntimeError",
      message: message.join(":"),
    });
  }
  if (values["reset-next"]) server.resetNextGeneration();
  if (values["hang-next"]) server.hangNextGeneration();
  if (proxyTimeoutMs !== undefined) server.setProxyTimeout(proxyTimeoutMs);
  return server;
}

/** The options, each mistake told in the option's own words. */
function readOptions(argv: string[]) {
  // Not strict: parseArgs' own errors are several lines and name no fix.
  const { values, tokens } = parseArgs({
    args: argv,
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
  return values as Partial<Record<StringOption, string>> &
    Partial<Record<Exclude<keyof typeof OPTIONS, StringOption>, boolean>>;
}

/** A whole-number option in `[min, max]`, or undefined when unset. */
function number(
  name: StringOption,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (
    value.trim() === "" ||
    !Number.isInteger(parsed) ||
    parsed < min ||
    parsed > max
  ) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `a whole number of at least ${min}`
        : `a whole number from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${range}, got "${value}"`);
  }
  return parsed;
}
