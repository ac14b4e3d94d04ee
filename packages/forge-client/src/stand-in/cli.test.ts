import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAND_IN_USAGE } from "./cli.js";

const bin = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../bin/stand-in.mjs",
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the stand-in's bin as `pnpm forge:stand-in` does; `untilListening`
 * sends SIGINT once it says it listens.
 */
function run(args: string[], untilListening = false): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (untilListening && stdout.includes("listening on")) {
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((ready) => busy.listen(0, "127.0.0.1", ready));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((closed) => busy.close(() => closed())));

describe("pnpm forge:stand-in", () => {
  it("prints every option for --help and exits 0", async () => {
    const { code, stdout, stderr } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toBe(STAND_IN_USAGE);
    for (const option of [
      "--port",
      "--listen",
      "--nowebui",
      "--api-auth",
      "--step-ms",
      "--model-load-ms",
      "--max-threads",
      "--oom-at-step",
      "--fail-next",
      "--reset-next",
      "--hang-next",
      "--proxy-timeout-ms",
    ]) {
      expect(stdout).toContain(option);
    }
  });

  // BUSY stands for a port another server holds.
  const mistakes: [string, string[], string][] = [
    [
      "a port that is not a number",
      ["--port", "abc"],
      '--port must be a whole number from 0 to 65535, got "abc"',
    ],
    [
      "a port out of range",
      ["--port", "99999"],
      '--port must be a whole number from 0 to 65535, got "99999"',
    ],
    [
      "a port already in use",
      ["--port", "BUSY"],
      "port BUSY is already in use; stop what listens there or pick another with --port",
    ],
    ["an unknown option", ["--bogus"], "unknown option --bogus"],
    ["an option without its value", ["--step-ms"], "--step-ms needs a value"],
    [
      "credentials without a colon",
      ["--port", "0", "--api-auth", "nocolon"],
      "--api-auth must look like user:pass",
    ],
  ];
  it.each(mistakes)(
    "prints one line for %s and exits 2",
    async (_, args, line) => {
      const busy = (text: string) => text.replace("BUSY", String(busyPort));
      const { code, stdout, stderr } = await run(args.map(busy));
      expect(stderr).toMatch(/^stand-in: [^\n]+\n$/);
      expect(stderr).toContain(busy(line));
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stdout).toBe("");
      expect(code).toBe(2);
    },
  );

  it("closes and exits 0 on Ctrl-C", async () => {
    const { code, stdout, stderr } = await run(["--port", "0"], true);
    expect(stdout).toMatch(
      /^stand-in Forge listening on http:\/\/127\.0\.0\.1:\d+\n$/,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
