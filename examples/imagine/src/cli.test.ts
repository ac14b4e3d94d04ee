import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { describeRun, FALLBACK_PROMPTS, loadPrompts } from "./prompts.js";

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const out = mkdtempSync(join(tmpdir(), "imagine-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Run {
  code: number | null;
  log: string;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as pnpm does: in the package folder, INIT_CWD set. */
function run(args: string[], initCwd = out): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [tsx, "--conditions=@imagejobs/source", join(here, "cli.ts"), ...args],
      {
        cwd: resolve(here, ".."),
        env: { ...process.env, INIT_CWD: initCwd },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let log = "";
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      log += chunk;
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      log += chunk;
      stderr += chunk;
    });
    child.on("close", (code) => done({ code, log, stdout, stderr }));
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

describe("pnpm imagine on a mistake", () => {
  const folder = mkdtempSync(join(tmpdir(), "imagine-mistakes-"));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(join(folder, "no-column.tsv"), "Text\tCategory\na cat\tx\n");
  writeFileSync(join(folder, "empty.tsv"), "Prompt\tCategory\n\tx\n  \ty\n");

  const missing = join(folder, "missing.tsv");
  const cases: [string, string[], string][] = [
    [
      "a missing file",
      ["--prompts", missing],
      `--prompts: no file at ${missing}`,
    ],
    [
      "a file without a Prompt column",
      ["--prompts", "no-column.tsv"],
      `--prompts: ${join(folder, "no-column.tsv")} has no "Prompt" column`,
    ],
    [
      "a file whose prompts are all empty",
      ["--prompts", "empty.tsv"],
      `--prompts: ${join(folder, "empty.tsv")} has a "Prompt" column but no prompt in it`,
    ],
    [
      "a negative limit",
      ["--limit", "-3"],
      '--limit must be a whole number of at least 1, got "-3"',
    ],
    ["an unknown option", ["--bogus", "1"], "unknown option --bogus"],
    ["an option without its value", ["--limit"], "--limit needs a value"],
    [
      "a size the request schema refuses",
      ["--size", "513"],
      "--size 513: must be a multiple of 8",
    ],
    ["too many steps", ["--steps", "101"], "--steps 101: "],
  ];
  it.each(cases)(
    "prints one line for %s and exits 2",
    async (_, args, line) => {
      const { code, stdout, stderr } = await run(args, folder);
      expect(stderr).toMatch(/^imagine: .+\n$/);
      expect(stderr).toContain(line);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stdout).toBe("");
      expect(code).toBe(2);
    },
  );

  it("prints every option for --help", async () => {
    const { code, stdout } = await run(["--help"], folder);
    expect(code).toBe(0);
    for (const option of [
      "--prompts",
      "--limit",
      "--users",
      "--gpus",
      "--forge-url",
      "--out",
      "--steps",
      "--size",
      "--step-ms",
    ]) {
      expect(stdout).toContain(option);
    }
  });
});

describe("pnpm imagine prompts and paths", () => {
  it("says the built-in prompts run when PartiPrompts is not beside the checkout", () => {
    const loaded = loadPrompts(undefined, "/nowhere/shared/data/Parti.tsv");
    expect(loaded.prompts).toEqual(FALLBACK_PROMPTS);
    expect(describeRun(loaded, 50)).toMatch(
      /^Prompts: built-in prompts \(.*Parti\.tsv is not beside the checkout\); 50 asked, 8 available: running 8\.$/,
    );
  });

  it("reads --prompts and writes --out relative to where the command was typed", async () => {
    const folder = mkdtempSync(join(tmpdir(), "imagine-cwd-"));
    try {
      writeFileSync(
        join(folder, "three.tsv"),
        "Prompt\tCategory\na red cube\tx\na blue ball\tx\na green cone\tx\n",
      );
      const { code, log, stdout } = await run(
        [
          "--prompts=three.tsv",
          "--out=results",
          "--limit=5",
          "--gpus=1",
          "--users=2",
          "--steps=2",
          "--size=64",
          "--step-ms=1",
        ],
        folder,
      );
      expect(code, log).toBe(0);
      expect(stdout.split("\n")[0]).toBe(
        `Prompts: ${join(folder, "three.tsv")}; 5 asked, 3 available: running 3.`,
      );
      const summary = JSON.parse(
        readFileSync(join(folder, "results", "summary.json"), "utf8"),
      ) as Summary;
      expect(summary.jobs.map((j) => j.prompt).sort()).toEqual([
        "a blue ball",
        "a green cone",
        "a red cube",
      ]);
      expect(existsSync(resolve(here, "..", "results"))).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
