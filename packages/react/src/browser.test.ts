// @vitest-environment node
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  createImageJobs,
  type ImageJobs,
  RealtimeGateway,
} from "@imagejobs/core";
import { serveWebSocketServer } from "@imagejobs/core/node";
import { ScriptedGpuBackend } from "@imagejobs/core/testing";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from "vitest";
import { WebSocketServer } from "ws";
import type { BrowserTrace } from "./browser-page.fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const ci = process.env.CI === "true";
const hasChromium = existsSync(CHROMIUM);
const shots = fileURLToPath(
  new URL("../../../.artifacts/react-browser/", import.meta.url),
);
if (!hasChromium && !ci) {
  console.log(
    `notice: real-browser tests skipped: no ${CHROMIUM}; run \`apt-get install chromium\` to run them`,
  );
}

/** A valid 1×1 PNG, so the page's <img> really decodes. */
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  ),
  (char) => char.charCodeAt(0),
);
const alice = { id: "alice" };

let browser: Browser;
let server: Server;
let origin: string;
let jobs: ImageJobs;
let backend: ScriptedGpuBackend;
let wss: WebSocketServer;
/** While true, new sockets are cut at once: the network is down. */
let blocked = false;
let page: Page;
let stopServer: () => Promise<void> = async () => {};

async function serve(): Promise<void> {
  const bundle = await build({
    entryPoints: [
      fileURLToPath(new URL("./browser-page.fixture.tsx", import.meta.url)),
    ],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    conditions: ["@imagejobs/source"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]!.text;

  backend = new ScriptedGpuBackend();
  jobs = createImageJobs({
    backends: [backend],
    sweepIntervalMs: 0,
    progressIntervalMs: 0,
    pollMs: 10,
  });
  jobs.start();
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events: jobs.context.events,
    pingIntervalMs: 0,
  });
  server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (path === "/page.js") {
      response.writeHead(200, { "content-type": "text/javascript" });
      return void response.end(script);
    }
    if (path.startsWith("/images/")) {
      const key = decodeURIComponent(path.slice("/images/".length));
      const image = await jobs.context.images.get(key);
      if (!image) return void response.writeHead(404).end();
      response.writeHead(200, { "content-type": image.contentType });
      return void response.end(image.data);
    }
    response.writeHead(200, { "content-type": "text/html" });
    response.end(
      '<!doctype html><title>imagejobs</title><div id="root"></div><script type="module" src="/page.js"></script>',
    );
  });
  wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  serveWebSocketServer(gateway, wss, {
    authenticate: (request) => ({
      id:
        new URL(request.url ?? "/", "http://x").searchParams.get("user") ?? "",
    }),
    closeTimeoutMs: 200,
  });
  server.on("upgrade", (request, socket, head) => {
    if (blocked) return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) =>
      wss.emit("connection", ws, request),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stopServer = async () => {
    gateway.close();
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(resolve));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await jobs.close();
  };
}

/** Cuts every open socket and refuses new ones until `restore`. */
function cutNetwork(): void {
  blocked = true;
  for (const socket of wss.clients) socket.terminate();
}

function restoreNetwork(): void {
  blocked = false;
}

async function open(conversationId: string): Promise<void> {
  page = await browser.newPage({ viewport: { width: 480, height: 360 } });
  await page.goto(`${origin}/?user=alice&conversation=${conversationId}`);
  await connection("open");
  await page.waitForSelector('[data-testid="loaded"]:text-is("success")');
}

function connection(status: string): Promise<unknown> {
  return page.waitForSelector(
    `[data-testid="connection"]:text-is("${status}")`,
  );
}

function progress(percent: number): Promise<unknown> {
  return page.waitForSelector(
    `[data-status="running"] [role="progressbar"][aria-valuenow="${percent}"]`,
  );
}

/** Waits until the card shows the image, decoded. */
function image(): Promise<unknown> {
  return page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>(
      '[data-status="succeeded"] img',
    );
    return img?.complete === true && img.naturalWidth > 0;
  });
}

function trace(): Promise<BrowserTrace> {
  return page.evaluate(
    () =>
      (window as unknown as { imagejobsTrace: BrowserTrace }).imagejobsTrace,
  );
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${shots}${name}.png` });
}

async function submit(conversationId: string) {
  const index = backend.runs.length;
  const { job } = await jobs.service.submit(alice, {
    conversationId,
    request: { prompt: "a lighthouse at dusk", steps: 10 },
  });
  return { job, run: await backend.run(index) };
}

async function version(jobId: string): Promise<number> {
  return (await jobs.service.get(alice, jobId)).job.version;
}

const succeed = (run: Awaited<ReturnType<typeof submit>>["run"]) =>
  run.succeed([
    {
      data: PNG,
      contentType: "image/png",
      width: run.input.request.width,
      height: run.input.request.height,
      seed: run.input.request.seed,
    },
  ]);

describe.skipIf(!hasChromium && !ci)("in real Chromium", () => {
  beforeAll(async () => {
    expect(
      hasChromium,
      `${CHROMIUM} is missing: apt-get install chromium`,
    ).toBe(true);
    mkdirSync(shots, { recursive: true });
    const [launched] = await Promise.all([
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-quic",
          "--no-first-run",
          "--disable-component-update",
          "--disable-sync",
        ],
      }),
      serve(),
    ]);
    browser = launched;
  });
  afterAll(async () => {
    await browser?.close();
    await stopServer();
  });
  afterEach(async () => {
    restoreNetwork();
    // A failed test must not keep the one GPU busy for the next.
    for (const run of backend.runs) if (!run.settled) succeed(run);
    await page?.close();
  });

  it("S17 a dropped socket shows reconnecting with the job still running, then open, then succeeded", async () => {
    await open("c-s17");
    const { job, run } = await submit("c-s17");
    run.step(3);
    await progress(30);
    await shot("s17-1-running");

    cutNetwork();
    await connection("reconnecting");
    await page.waitForSelector('[data-status="running"]');
    await shot("s17-2-reconnecting");
    restoreNetwork();
    await connection("open");
    await shot("s17-3-open");
    run.step(6);
    await progress(60);
    succeed(run);
    await image();
    await shot("s17-4-succeeded");

    const { timeline } = await trace();
    expect(timeline.filter((line) => line.startsWith("reconnecting/"))).toEqual(
      expect.arrayContaining(["reconnecting/running"]),
    );
    const lost = timeline.indexOf("reconnecting/running");
    expect(timeline.slice(lost)).toEqual([
      "reconnecting/running",
      "open/running",
      "open/succeeded",
    ]);
    expect(timeline.some((line) => line.endsWith("/failed"))).toBe(false);
    expect((await jobs.service.get(alice, job.id)).job.status).toBe(
      "succeeded",
    );
  });

  it("S15 events emitted while the page was offline arrive after reconnect, once each, in order", async () => {
    await open("c-s15");
    const { job, run } = await submit("c-s15");
    run.step(2);
    await progress(20);
    const before = await version(job.id);

    cutNetwork();
    await connection("reconnecting");
    for (let step = 3; step <= 7; step += 1) run.step(step);
    await vi.waitFor(async () =>
      expect(await version(job.id)).toBe(before + 5),
    );
    await shot("s15-1-offline-while-events-pass");
    restoreNetwork();
    await progress(70);
    await shot("s15-2-caught-up");
    succeed(run);
    await image();

    const last = await version(job.id);
    const { jobFrames, resyncs } = await trace();
    // Every version from queued (1) to succeeded, each once, in order.
    const expected = Array.from(
      { length: last },
      (_, index) => `${job.id}:${index + 1}`,
    );
    expect(jobFrames).toEqual(expected);
    // The conversation and the card's job, before and after: no resync.
    expect(resyncs).toEqual([false, false, false, false]);
  });

  it("S16 reloading mid-render finds the job again, shows at least 40 %, then the image", async () => {
    await open("c-s16");
    const { job, run } = await submit("c-s16");
    run.step(4);
    await progress(40);
    await shot("s16-1-at-40");

    await page.reload();
    run.step(5);
    await connection("open");
    await progress(50);
    await shot("s16-2-after-reload");
    const { progress: seen } = await trace();
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0.4);
    succeed(run);
    await image();
    await shot("s16-3-image");
    expect(
      await page.getAttribute('[data-status="succeeded"] img', "src"),
    ).toMatch(/^\/images\//);
    expect((await jobs.service.get(alice, job.id)).job.status).toBe(
      "succeeded",
    );
  });
});
