import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ImageGenerationMetadata } from "../message-metadata.js";
import { uniqueQueue } from "./fixtures.js";
import type { ConformanceStores, StoreFactory } from "./harness.js";

const T0 = Date.UTC(2026, 0, 1);

function metadata(
  jobId: string,
  version: number,
  overrides: Partial<ImageGenerationMetadata> = {},
): ImageGenerationMetadata {
  return {
    jobId,
    version,
    status: "running",
    ticket: 1,
    position: null,
    queueSize: null,
    progress: null,
    images: null,
    parameters: {},
    error: null,
    queuedAt: new Date(T0).toISOString(),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

/**
 * The message store's and event log's contract: atomic, version-guarded
 * merges that leave other keys alone, and reads after opaque cursors.
 */
export function describeMessageAndEventConformance(
  name: string,
  factory: StoreFactory,
): void {
  describe(`${name}: message and event conformance`, () => {
    let stores: ConformanceStores;
    beforeEach(async () => {
      stores = await factory();
    });
    afterEach(async () => {
      await stores.close();
    });

    it("S13 concurrent message patches: newest version wins, other keys land", async () => {
      const { messages } = stores;
      const messageId = uniqueQueue("msg");
      await stores.createMessage(messageId, { text: "here is your image" });
      const patches = Array.from({ length: 50 }, (_, i) =>
        messages.patch({
          messageId,
          key: "image_generation",
          value: metadata("job-1", i + 2, {
            progress: {
              phase: "sampling",
              fraction: (i + 1) / 100,
              step: i,
              steps: 50,
              etaMs: null,
            },
          }),
        }),
      );
      const success = messages.patch({
        messageId,
        key: "image_generation",
        value: metadata("job-1", 60, {
          status: "succeeded",
          progress: {
            phase: "sampling",
            fraction: 1,
            step: 50,
            steps: 50,
            etaMs: 0,
          },
          images: [{ url: "/images/a.png", width: 512, height: 512, seed: 1 }],
        }),
      });
      const others = Array.from({ length: 20 }, (_, i) =>
        messages.merge(messageId, { [`reaction_${i}`]: { by: `user-${i}` } }),
      );
      const all = [...patches, success, ...others];
      // Shuffle the order the writes are started in.
      for (let i = all.length - 1; i > 0; i -= 1) {
        const j = (i * 7919) % (i + 1);
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      await Promise.all(all);

      const message = await messages.get(messageId);
      const image = message?.metadata
        .image_generation as ImageGenerationMetadata;
      expect(image.status).toBe("succeeded");
      expect(image.version).toBe(60);
      expect(image.progress?.fraction).toBe(1);
      expect(message?.metadata.text).toBe("here is your image");
      for (let i = 0; i < 20; i += 1) {
        expect(message?.metadata[`reaction_${i}`]).toEqual({ by: `user-${i}` });
      }
      const late = await messages.patch({
        messageId,
        key: "image_generation",
        value: metadata("job-1", 59),
      });
      expect(late).toBe("stale");
      expect(
        await messages.patch({
          messageId: `${messageId}-gone`,
          key: "image_generation",
          value: metadata("job-1", 1),
        }),
      ).toBe("missing");
    });

    it("a retry's newer job takes over a terminal key; an older one does not", async () => {
      const { messages } = stores;
      const messageId = uniqueQueue("msg");
      await stores.createMessage(messageId);
      const t = (ms: number) => new Date(T0 + ms).toISOString();
      await messages.patch({
        messageId,
        key: "image_generation",
        value: metadata("old", 3, {
          status: "failed",
          queuedAt: t(0),
          ticket: 1,
        }),
      });
      expect(
        await messages.patch({
          messageId,
          key: "image_generation",
          value: metadata("older", 9, { queuedAt: t(-5), ticket: 0 }),
        }),
      ).toBe("stale");
      expect(
        await messages.patch({
          messageId,
          key: "image_generation",
          value: metadata("retry", 1, {
            status: "queued",
            queuedAt: t(10),
            ticket: 2,
          }),
        }),
      ).toBe("applied");
      const stored = (await messages.get(messageId))?.metadata
        .image_generation as ImageGenerationMetadata;
      expect(stored.jobId).toBe("retry");
      // RFC 7396: the retry's null error deletes the old one.
      expect(stored).not.toHaveProperty("error");
      expect(stored.status).toBe("queued");
    });

    it("S15 the event log reads exactly what follows a cursor, dedupes, and asks an old cursor to resync", async () => {
      const { events } = stores;
      const queue = uniqueQueue();
      const notified: string[] = [];
      const unsubscribe = events.subscribe((q) => {
        if (q === queue) notified.push(q);
      });
      const event = (n: number) => ({
        type: "service" as const,
        queue,
        status: "ok" as const,
        backends: [],
        at: n,
      });
      const cursors: string[] = [];
      for (let n = 0; n < 20; n += 1) {
        const { cursor } = await events.append({
          queue,
          event: event(n),
          dedupeKey: `e${n}`,
          now: T0 + n,
        });
        cursors.push(cursor);
      }
      const again = await events.append({
        queue,
        event: event(3),
        dedupeKey: "e3",
        now: T0,
      });
      expect(again).toEqual({ cursor: cursors[3], duplicate: true });

      const after = await events.read(queue, cursors[4]!, 100);
      expect(after.resync).toBe(false);
      expect(after.entries.map((e) => (e.event as { at: number }).at)).toEqual(
        Array.from({ length: 15 }, (_, i) => i + 5),
      );
      expect(after.cursor).toBe(cursors[19]);
      expect(await events.head(queue)).toBe(cursors[19]);
      const all = await events.read(queue, null, 5);
      expect(all.entries.map((e) => e.cursor)).toEqual(cursors.slice(0, 5));

      expect(await events.trim(queue, T0 + 10)).toBe(10);
      const old = await events.read(queue, cursors[2]!, 100);
      expect(old.resync).toBe(true);
      expect((await events.read(queue, cursors[9]!, 100)).entries).toHaveLength(
        10,
      );
      expect((await events.read(queue, "not-a-cursor", 100)).resync).toBe(true);

      await waitFor(() => notified.length > 0);
      unsubscribe();
    });
  });
}

async function waitFor(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
