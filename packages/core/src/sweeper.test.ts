import { describe, expect, it } from "vitest";
import type { RuntimeContext } from "./context.js";
import { ImageJobEvents } from "./hub.js";
import { MemoryEventLog } from "./memory/memory-event-log.js";
import { MemoryImageStore } from "./memory/memory-image-store.js";
import { MemoryJobStore } from "./memory/memory-job-store.js";
import { MemoryMessageStore } from "./memory/memory-message-store.js";
import { silentLogger } from "./ports/logger.js";
import { Relay } from "./relay.js";
import { Sweeper } from "./sweeper.js";
import { FakeClock } from "./testing/fake-clock.js";
import { newJob, OPEN_LIMITS } from "./testing/fixtures.js";

function context(
  clock: FakeClock,
  stores: Pick<RuntimeContext, "jobs" | "messages" | "events" | "images">,
) {
  const hub = new ImageJobEvents();
  const base = {
    ...stores,
    clock,
    logger: silentLogger,
    hub,
    order: "fifo" as const,
  };
  return {
    ...base,
    relay: new Relay(base),
    userMessages: { WORKER_LOST: "Oups, l'image est perdue." },
  };
}

describe("Sweeper", () => {
  it("many sweepers at once repair each job once", async () => {
    const clock = new FakeClock();
    const stores = {
      jobs: new MemoryJobStore(),
      messages: new MemoryMessageStore(),
      events: new MemoryEventLog(),
      images: new MemoryImageStore(),
    };
    const now = clock.now();
    for (let i = 0; i < 20; i += 1) {
      await stores.jobs.submit({
        job: newJob("default", now, {
          owner: `u${i}`,
          attempt: i < 10 ? 1 : 2,
        }),
        limits: OPEN_LIMITS,
        now,
      });
    }
    for (let i = 0; i < 20; i += 1) {
      await stores.jobs.claim({
        queue: "default",
        workerId: "gone",
        backendId: "b",
        leaseMs: 30_000,
        order: "fifo",
        now,
      });
    }
    await clock.advance(31_000);

    const sweepers = Array.from(
      { length: 5 },
      () => new Sweeper({ context: context(clock, stores) }),
    );
    const reports = await Promise.all(
      sweepers.map((sweeper) => sweeper.sweep()),
    );
    const requeued = reports.reduce((sum, r) => sum + r.requeued, 0);
    const lost = reports.reduce(
      (sum, r) => sum + (r.failed.WORKER_LOST ?? 0),
      0,
    );
    expect(requeued).toBe(10);
    expect(lost).toBe(10);

    const read = await stores.events.read("default", null, 1000);
    const perJob = new Map<string, number>();
    for (const entry of read.entries) {
      if (entry.event.type !== "job") continue;
      const { id, status } = entry.event.job;
      if (status === "queued" || status === "failed") {
        perJob.set(id, (perJob.get(id) ?? 0) + 1);
      }
    }
    // Each job: its submit's queued event plus exactly one repair.
    expect([...perJob.values()].every((count) => count === 2)).toBe(true);
    const failed = (await stores.jobs.list({ owner: "u15", limit: 1 }))[0]!;
    expect(failed.error).toMatchObject({
      code: "WORKER_LOST",
      message: "Oups, l'image est perdue.",
    });
  });
});
