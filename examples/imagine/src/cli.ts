import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createImageJobs, MemoryImageStore } from "@imagejobs/core";
import { createForgeBackend } from "@imagejobs/forge-client";
import {
  type StandInForge,
  startStandInForge,
} from "@imagejobs/forge-client/stand-in";
import { readImagineOptions, USAGE, UsageError } from "./cli-options.js";
import { startGatewayServer } from "./gateway-server.js";
import { LiveView } from "./live-view.js";
import { describeRun, loadPrompts } from "./prompts.js";
import { SimulatedUser } from "./simulated-user.js";
import { type JobSummary, table, totals } from "./summary.js";

/**
 * Runs `pnpm imagine`. A mistake in the options or the prompt file prints
 * one line and exits 2; anything else that stops the run prints one line
 * and exits 1.
 */
async function main(argv: string[]): Promise<number> {
  // pnpm runs the script in this package's folder; INIT_CWD is where the
  // user typed the command, which relative paths are meant against.
  const options = readImagineOptions(
    argv,
    process.env.INIT_CWD ?? process.cwd(),
  );
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { limit, steps, size, stepMs } = options;
  const out = options.out;

  const loaded = loadPrompts(options.prompts);
  const { source } = loaded;
  const prompts = loaded.prompts.slice(0, limit);
  process.stdout.write(`${describeRun(loaded, limit)}\n`);
  mkdirSync(out, { recursive: true });

  const standIns: StandInForge[] = [];
  const urls = [...options.forgeUrls];
  if (urls.length === 0) {
    for (let i = 0; i < options.gpus; i += 1) {
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
    { length: options.users },
    (_, i) =>
      new SimulatedUser({
        name: `user-${i + 1}`,
        url: gateway.url,
        request: (prompt) => ({ prompt, steps, width: size, height: size }),
      }),
  );
  await Promise.all(
    users.map((user, u) =>
      user.submitAll(prompts.filter((_, i) => i % options.users === u)),
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
  return summary.totals.failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`imagine: ${message}\n`);
    process.exit(usage ? 2 : 1);
  },
);
