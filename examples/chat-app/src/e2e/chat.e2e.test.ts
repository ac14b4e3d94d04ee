import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatServer, createChatServer } from "../server/chat-server.js";
import { CHROMIUM_ARGS, findChromium } from "./find-chromium.js";

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const shots = resolve(appRoot, "../../.artifacts/e2e");
const executablePath = findChromium();

let folder: string;
let server: ChatServer;
let browser: Browser;

beforeAll(async () => {
  if (!executablePath) return;
  folder = mkdtempSync(join(tmpdir(), "chat-e2e-"));
  mkdirSync(shots, { recursive: true });
  await build({
    root: appRoot,
    mode: "production",
    configFile: resolve(appRoot, "vite.config.ts"),
    logLevel: "error",
    build: { outDir: join(folder, "ui"), emptyOutDir: true },
  });
  server = await createChatServer({
    port: 0,
    forge: { stepMs: 40 },
    image: { size: 256, steps: 20 },
    imagesDir: join(folder, "images"),
    uiDir: join(folder, "ui"),
    testHooks: true,
  });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** Polls `read` until `accept` holds; fails with `what` and the last value. */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const card = (page: Page, index: number) =>
  page.locator(".message.assistant .job-card").nth(index);
const statusOf = (page: Page, index: number) =>
  card(page, index).getAttribute("data-status");
const textOf = async (page: Page, index: number) =>
  (await card(page, index).textContent()) ?? "";
const percentOf = async (page: Page, index: number) => {
  const bar = card(page, index).getByRole("progressbar");
  if ((await bar.count()) === 0) return -1;
  return Number(await bar.getAttribute("aria-valuenow"));
};

async function imagine(page: Page, prompt: string, count: number) {
  await page.getByLabel("Message").fill(`/imagine ${prompt}`);
  await page.getByRole("button", { name: "Send" }).click();
  await until(
    `card ${count}`,
    () => page.locator(".message.assistant .job-card").count(),
    (n) => n >= count,
  );
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

async function decodedImage(page: Page, index: number) {
  const image = card(page, index).locator("img");
  await image.waitFor({ timeout: 20_000 });
  const naturalWidth = await until(
    "the image to decode",
    () => image.evaluate((img: HTMLImageElement) => img.naturalWidth),
    (width) => width > 0,
  );
  const url = (await image.getAttribute("src"))!;
  const response = await page.request.get(new URL(url, page.url()).href);
  const png = PNG.sync.read(Buffer.from(await response.body()));
  return { naturalWidth, url, png };
}

describe.skipIf(!executablePath)("chat app in Chromium", () => {
  it("S16 S17 S18 S19 two users: positions fall, progress moves, reload, lost socket, closed page, cancel, OOM in plain words and retry", async () => {
    const standIn = server.standIn!;
    const alice = await browser.newContext({
      viewport: { width: 1100, height: 760 },
    });
    const bob = await browser.newContext({
      viewport: { width: 1100, height: 760 },
    });
    const a = await alice.newPage();
    let b = await bob.newPage();
    await a.goto(server.url);
    await b.goto(server.url);
    await until(
      "both sockets open",
      async () =>
        `${await a.locator(".connection").getAttribute("data-connection")}` +
        `${await b.locator(".connection").getAttribute("data-connection")}`,
      (both) => both === "openopen",
    );

    // Alice's render stops at step 6 of 20, so it stays running.
    standIn.hold(6);
    await imagine(a, "a lighthouse on a cliff at dusk, oil painting", 1);
    const held = await until(
      "alice's job to run to the hold",
      () => percentOf(a, 0),
      (percent) => percent >= 25,
    );
    await imagine(a, "a second picture alice will cancel", 2);
    await until(
      "alice's second job queued first",
      () => textOf(a, 1),
      (text) => text.includes("Position 1 of 1"),
    );

    // Bob joins: his job waits behind Alice's queued one.
    await imagine(b, "a red fox curled up in fresh snow", 1);
    await until(
      "bob at position 2",
      () => textOf(b, 0),
      (text) => text.includes("Position 2 of 2"),
    );
    await shot(b, "01-bob-position-2");
    expect(await a.locator(".conversation-list li").count()).toBe(1);
    expect(await b.locator(".conversation-list li").count()).toBe(1);
    expect(await b.getByText("lighthouse").count()).toBe(0);

    // Alice cancels her queued job: Bob moves up while her render runs.
    await card(a, 1).getByRole("button", { name: "Cancel" }).click();
    await until(
      "cancelled",
      () => statusOf(a, 1),
      (s) => s === "cancelled",
    );
    await until(
      "bob at position 1",
      () => textOf(b, 0),
      (text) => text.includes("Position 1 of 1"),
    );
    expect(await statusOf(a, 0)).toBe("running");
    await shot(b, "02-bob-position-1-while-alice-runs");
    await shot(a, "03-alice-cancelled");

    // Reload mid-render: the card comes back running, no lower than before.
    await a.reload();
    const after = await until(
      "the card after reload",
      () => percentOf(a, 0),
      (percent) => percent >= 0,
    );
    expect(after).toBeGreaterThanOrEqual(held);
    expect(await statusOf(a, 0)).toBe("running");
    await shot(a, "04-alice-after-reload-mid-render");

    // Let it go on, slower, and watch the bar move.
    standIn.setStepMs(120);
    standIn.release();
    const seen = new Set<number>();
    await until(
      "the progress bar moving",
      async () => {
        const percent = await percentOf(a, 0);
        if (percent >= 0) seen.add(percent);
        return seen.size;
      },
      (count) => count >= 3,
    );
    const values = [...seen];
    expect(values).toEqual([...values].sort((x, y) => x - y));
    await shot(a, "05-alice-progress");
    // Once Alice is past step 10, the next render (Bob's) stops there.
    await until(
      "alice past step 10",
      () => percentOf(a, 0),
      (p) => p >= 55,
    );
    standIn.hold(10);
    standIn.setStepMs(40);

    const first = await decodedImage(a, 0);
    expect(first.naturalWidth).toBe(256);
    expect(first.png.width).toBe(256);
    await shot(a, "06-alice-image");
    const stranger = await b.request.get(new URL(first.url, server.url).href);
    expect(stranger.status()).toBe(404);

    await card(a, 0).locator("img").click();
    await a.getByRole("dialog").waitFor();
    await shot(a, "07-alice-full-size");
    await a.getByRole("dialog").click();

    // S17: Bob's socket drops mid-render; the card says reconnecting while
    // the job stays running, then the socket is back.
    await until(
      "bob's render held",
      () => percentOf(b, 0),
      (p) => p >= 45,
    );
    await card(b, 0).evaluate((element) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const note = () =>
        seen.push(
          `${element.getAttribute("data-status")}/${element.getAttribute("data-connection")}`,
        );
      new MutationObserver(note).observe(element, { attributes: true });
    });
    server.dropSockets();
    const states = await until(
      "reconnecting, then open again",
      () => b.evaluate(() => (window as unknown as { seen: string[] }).seen),
      (list) =>
        list.includes("running/reconnecting") && list.at(-1) === "running/open",
    );
    expect(states.every((state) => state.startsWith("running/"))).toBe(true);
    await shot(b, "08-bob-reconnected-still-running");

    // S18, S19: Bob closes the page mid-render; the GPU goes on, and when
    // he comes back the image is there.
    const finished = new Promise<void>((resolve) => {
      server.jobs.events.on("job", (event) => {
        if (
          event.job.status === "succeeded" &&
          event.job.request.prompt.includes("red fox")
        ) {
          resolve();
        }
      });
    });
    await b.close();
    standIn.release();
    await finished;
    b = await bob.newPage();
    await b.goto(server.url);
    await decodedImage(b, 0);
    await shot(b, "09-bob-came-back-to-the-image");

    // An out-of-memory error in plain words, then a retry that works.
    standIn.failWithOomAtStep(3);
    await imagine(b, "a city skyline made of stacked books", 2);
    await until(
      "the OOM",
      () => statusOf(b, 1),
      (s) => s === "failed",
    );
    const failed = await textOf(b, 1);
    expect(failed).toContain("too large for the image server's memory");
    expect(failed).not.toMatch(/CUDA|OutOfMemoryError|GiB/);
    await shot(b, "10-bob-out-of-memory");
    await b
      .locator(".message.assistant")
      .nth(1)
      .getByRole("button", { name: "Try again" })
      .click();
    const retried = await decodedImage(b, 1);
    expect(retried.png.width).toBe(256);
    expect(await statusOf(b, 1)).toBe("succeeded");
    await shot(b, "11-bob-retried");

    await alice.close();
    await bob.close();
  });
});
