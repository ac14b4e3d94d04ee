import { parseArgs } from "node:util";
import { startStandInForge } from "./stand-in-forge.js";

/**
 * Runs the stand-in from the command line:
 * `stand-in --port 7860 [--nowebui] [--api-auth u:p] [--step-ms 50]
 * [--model-load-ms 3000] [--oom-at-step 5] [--fail-next RuntimeError:msg]
 * [--reset-next] [--hang-next] [--proxy-timeout-ms 60000]
 * [--max-threads 40] [--listen]`.
 */
export async function runStandInCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
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
    },
  });
  const apiOnly = values.nowebui === true;
  const server = await startStandInForge({
    port: Number(values.port ?? (apiOnly ? 7861 : 7860)),
    host: values.listen ? "0.0.0.0" : "127.0.0.1",
    mode: apiOnly ? "api-only" : "ui",
    stepMs: Number(values["step-ms"] ?? 50),
    modelLoadMs: Number(values["model-load-ms"] ?? 0),
    maxThreads: Number(values["max-threads"] ?? 40),
    ...(values["api-auth"] ? { apiAuth: values["api-auth"] } : {}),
  });
  if (values["oom-at-step"]) {
    server.failWithOomAtStep(Number(values["oom-at-step"]));
  }
  if (values["fail-next"]) {
    const [error, ...message] = values["fail-next"].split(":");
    server.failNextJob({
      error: error ?? "RuntimeError",
      message: message.join(":"),
    });
  }
  if (values["reset-next"]) server.resetNextGeneration();
  if (values["hang-next"]) server.hangNextGeneration();
  if (values["proxy-timeout-ms"]) {
    server.setProxyTimeout(Number(values["proxy-timeout-ms"]));
  }
  process.stdout.write(`stand-in Forge listening on ${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
