import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { loadPrompts } from "./prompts.js";

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const out = mkdtempSync(join(tmpdir(), "imagine-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; log: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [tsx, "--conditions=@imagejobs/source", join(here, "cli.ts"), ...args],
      { cwd: resolve(here, ".."), stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stdout.on("data", (chunk) => {
      log += chunk;
    });
    child.stderr.on("data", (chunk) => {
      log += chunk;
    });
    child.on("close", (code) => done({ code, log }));
  });
}

interface Summary {
  source: string;
  jobs: {
    prompt: string;
    user: string;
    positions: number[];
    status: string;
    images: string[];
  }[];
  totals: { succeeded: number; failed: number; positionsOnlyFall: boolean };
}

describe("pnpm imagine", () => {
  it("runs 50 prompts for 8 socket users on 2 stand-in GPUs without a failure", async () => {
    const expected = loadPrompts().prompts.slice(0, 50);
    const { code, log } = await run([
      "--limit=50",
      "--users=8",
      "--gpus=2",
      "--steps=10",
      "--step-ms=15",
      "--size=128",
      `--out=${out}`,
    ]);
    expect(code, log).toBe(0);

    const summary = JSON.parse(
      readFileSync(join(out, "summary.json"), "utf8"),
    ) as Summary;
    expect(summary.jobs).toHaveLength(expected.length);
    expect(summary.jobs.map((j) => j.prompt).sort()).toEqual(
      [...expected].sort(),
    );
    expect(summary.totals).toMatchObject({
      succeeded: expected.length,
      failed: 0,
    });
    expect(new Set(summary.jobs.map((j) => j.user)).size).toBe(
      Math.min(8, expected.length),
    );

    // What each user's socket showed: positions never rise, and the queue
    // really moved under some of them.
    for (const job of summary.jobs) {
      for (let i = 1; i < job.positions.length; i += 1) {
        expect(job.positions[i]).toBeLessThan(job.positions[i - 1]!);
      }
    }
    expect(summary.jobs.some((j) => j.positions.length > 2)).toBe(true);

    const pngs = readdirSync(out).filter((file) => file.endsWith(".png"));
    expect(pngs).toHaveLength(expected.length);
    for (const file of pngs) {
      const png = PNG.sync.read(readFileSync(join(out, file)));
      expect([png.width, png.height]).toEqual([128, 128]);
    }
  }, 90_000);
});
