import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx/cli");

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `main.ts` as `pnpm chat` does, with `env` over a clean chat
 * environment; `stopWith` sends that signal once it says where to open.
 */
function run(
  env: Record<string, string>,
  stopWith?: NodeJS.Signals,
): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [tsx, "--conditions=@imagejobs/source", join(here, "main.ts")],
      {
        env: {
          ...process.env,
          PORT: "0",
          FORGE_URL: "",
          FORGE_AUTH: "",
          REDIS_URL: "",
          DATABASE_URL: "",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (stopWith && stdout.includes("open http://")) child.kill(stopWith);
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((ready) => busy.listen(0, "127.0.0.1", ready));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((closed) => busy.close(() => closed()));
});

function expectOneLine(result: Run, line: string, code: number) {
  expect(result.stderr).toBe(`chat: ${line}\n`);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.code).toBe(code);
}

describe("pnpm chat", () => {
  it.each([
    [{ PORT: "abc" }, 'PORT must be a port number from 0 to 65535, got "abc"'],
    [
      { PORT: "70000" },
      'PORT must be a port number from 0 to 65535, got "70000"',
    ],
    [
      { FORGE_URL: "ftp://x" },
      'FORGE_URL entries must be http(s) URLs, got "ftp://x"',
    ],
    [
      { FORGE_AUTH: "nocolon" },
      "FORGE_AUTH must look like user:pass (the Forge server's --api-auth)",
    ],
  ])("prints one line for %o and exits 2", async (env, line) => {
    expectOneLine(await run(env), line, 2);
  });

  it("prints one line for a busy port and exits 1", async () => {
    const port = String(busyPort);
    expectOneLine(
      await run({ PORT: port }),
      `port ${port} is already in use (another "pnpm chat"?); stop it or pick another port, such as PORT=3001 pnpm chat`,
      1,
    );
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "closes and exits 0 on %s",
    async (signal) => {
      const result = await run({}, signal);
      expect(result.stdout).toMatch(
        /open http:\/\/localhost:\d+\nstopping…\n$/,
      );
      expect(result.stderr).toBe("");
      expect(result.signal).toBeNull();
      expect(result.code).toBe(0);
    },
  );
});
