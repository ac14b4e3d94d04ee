import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createImageJobs, MemoryImageStore } from "@imagejobs/core";
import { createForgeBackend } from "@imagejobs/forge-client";
import {
  type StandInForge,
  startStandInForge,
} from "@imagejobs/forge-client/stand-in";
import { startGatewayServer } from "./gateway-server.js";
import { LiveView } from "./live-view.js";
import { loadPrompts } from "./prompts.js";
import { SimulatedUser } from "./simulated-user.js";
import { type JobSummary, table, totals } from "./summary.js";

const { values } = parseArgs({
  options: {
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
  },
});

if (values.help) {
  process.stdout.write(`pnpm imagine [options]

  --prompts FILE     prompts (a TSV with a Prompt column); default PartiPrompts
  --limit N          how many prompts to run (default 20)
  --users U          simulated users, each on its own WebSocket (default 4)
  --gpus G           stand-in Forge servers to start (default 2)
  --forge-url URL    use a real Forge server instead (repeat for several)
  --out DIR          where the PNGs, summary.json and summary.txt go
  --steps N          sampling steps per image (default 12)
  --size PX          width and height (default 384)
  --step-ms MS       stand-in time per step (default 40)
`);
  process.exit(0);
}

const int = (name: string, value: string | undefined, min: number) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    process.stderr.write(
      `--${name} must be a whole number of at least ${min}, got "${value}"\n`,
    );
    process.exit(2);
  }
  return parsed;
};
const limit = int("limit", values.limit, 1);
const userCount = int("users", values.users, 1);
const gpuCount = int("gpus", values.gpus, 1);
const steps = int("steps", values.steps, 1);
const size = int("size", values.size, 64);
const stepMs = int("step-ms", values["step-ms"], 0);
const out = resolve(values.out!);

const { prompts: all, source } = loadPrompts(values.prompts);
const prompts = all.slice(0, limit);
mkdirSync(out, { recursive: true });

const standIns: StandInForge[] = [];
const urls = values["forge-url"] ?? [];
if (urls.length === 0) {
  for (let i = 0; i < gpuCount; i += 1) {
    const server = await startStandInForge({ stepMs });
    standIns.push(server);
    urls.push(server.url);
  }
}
const images = new MemoryImageStore();
const runtime = createImageJobs({
  backends: urls.map((url, i) =>
    createForgeBackend({
      id: `forge-${i}`,
      baseUrl: url,
      progressIntervalMs: 100,
    }),
  ),
  stores: { images },
  limits: {
    maxQueuedPerOwner: 4,
    maxActivePerOwner: 5,
    submitsPerWindow: 1000,
  },
  pollMs: 250,
  progressIntervalMs: 250,
});
runtime.start();

const gateway = await startGatewayServer(runtime);
const started = Date.now();
const view = new LiveView(process.stdout, prompts.length);

// The operator's view follows the runtime; the summary records what each
// user's own socket showed it.
let refreshing = Promise.resolve();
runtime.events.on("job", (event) => {
  view.job(event.job);
  refreshing = refreshing.then(async () => {
    view.queued((await runtime.service.stats()).queues[0]?.queued ?? 0);
  });
});

const users = Array.from(
  { length: userCount },
  (_, i) =>
    new SimulatedUser({
      name: `user-${i + 1}`,
      url: gateway.url,
      request: (prompt) => ({ prompt, steps, width: size, height: size }),
    }),
);
await Promise.all(
  users.map((user, u) =>
    user.submitAll(prompts.filter((_, i) => i % userCount === u)),
  ),
);
await Promise.all(users.map((user) => user.finished()));
await runtime.relay.idle();
await refreshing;
const wallMs = Date.now() - started;

const records: JobSummary[] = [];
for (const user of users) {
  for (const seen of user.seen.values()) {
    const { job } = seen;
    const record: JobSummary = {
      prompt: seen.prompt,
      user: seen.user,
      ticket: job.ticket,
      positions: seen.positions,
      waitMs: job.startedAt === null ? null : job.startedAt - job.queuedAt,
      runMs:
        job.finishedAt === null || job.startedAt === null
          ? null
          : job.finishedAt - job.startedAt,
      status: job.status,
      errorCode: job.error?.code ?? null,
      images: [],
    };
    for (const [index, image] of (job.result?.images ?? []).entries()) {
      const stored = await images.get(image.key);
      if (!stored) continue;
      const slug = record.prompt
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 40);
      const file = `${String(record.ticket).padStart(4, "0")}-${index}-${slug}.png`;
      writeFileSync(join(out, file), stored.data);
      record.images.push(file);
    }
    records.push(record);
  }
}
for (const user of users) user.close();
await gateway.close();
view.stop();

const jobs = records.sort((a, b) => a.ticket - b.ticket);
const summary = { source, jobs, totals: totals(jobs, wallMs, urls.length) };
writeFileSync(
  join(out, "summary.json"),
  `${JSON.stringify(summary, null, 2)}\n`,
);
const text = table(summary.totals);
writeFileSync(join(out, "summary.txt"), `${text}\n`);
process.stdout.write(`\n${text}\n\nimages and summary.json in ${out}\n`);

await runtime.close();
await Promise.all(standIns.map((server) => server.close()));
process.exit(summary.totals.failed === 0 ? 0 : 1);
