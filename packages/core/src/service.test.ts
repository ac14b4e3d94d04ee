import { afterEach, describe, expect, it } from "vitest";
import { ImageJobError } from "./errors.js";
import { createHarness, type Harness } from "./testing/harness.js";
import { memoryStores } from "./testing/memory-stores.js";

const memory = memoryStores;

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok",
    (error: unknown) =>
      ImageJobError.isInstance(error) ? error.code : String(error),
  );

describe("ImageJobService", () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("S28 another user's job answers NOT_FOUND to every call and changes nothing", async () => {
    h = await createHarness(memory, { start: false });
    const { service } = h.runtime;
    const mine = await h.submit("alice");
    await service.cancel(h.user("alice"), (await h.submit("alice")).job.id);
    const failed = (await service.list(h.user("alice"))).find(
      (s) => s.job.status === "cancelled",
    )!;
    const mallory = h.user("mallory");

    expect(await codeOf(service.get(mallory, mine.job.id))).toBe("NOT_FOUND");
    expect(await codeOf(service.position(mallory, mine.job.id))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(service.cancel(mallory, mine.job.id))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(service.retry(mallory, failed.job.id))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(service.get(mallory, "no-such-job"))).toBe("NOT_FOUND");
    expect(
      await service.list(mallory, { conversationId: "conv-alice" }),
    ).toEqual([]);

    const after = await service.get(h.user("alice"), mine.job.id);
    expect(after.job).toEqual(mine.job);
    expect(await service.list(h.user("alice"))).toHaveLength(2);
  });

  it("an app's authorize hook is asked, and a refusal is NOT_FOUND", async () => {
    const asked: string[] = [];
    h = await createHarness(memory, {
      start: false,
      authorize: (user, resource, action) => {
        asked.push(`${user.id}:${resource.kind}:${action}`);
        return user.id !== "banned";
      },
    });
    await h.submit("alice");
    expect(asked).toEqual([
      "alice:conversation:submit",
      "alice:message:submit",
    ]);
    expect(await codeOf(h.submit("banned"))).toBe("NOT_FOUND");
  });

  it("S28 a submit bound to someone else's message is NOT_FOUND and writes nothing", async () => {
    const messageOwners = new Map([["m-alice", "alice"]]);
    h = await createHarness(memory, {
      start: false,
      authorize: (user, resource) =>
        resource.kind === "job"
          ? resource.owner === user.id
          : resource.kind !== "message" ||
            messageOwners.get(resource.messageId) === user.id,
    });
    await h.stores.createMessage("m-alice", { text: "alice's" });
    const submit = (who: string) =>
      h.runtime.service.submit(h.user(who), {
        conversationId: "c",
        messageId: "m-alice",
        request: { prompt: "hijack" },
      });
    expect(await codeOf(submit("mallory"))).toBe("NOT_FOUND");
    expect(await h.runtime.service.list(h.user("mallory"))).toEqual([]);
    expect((await h.stores.messages.get("m-alice"))?.metadata).toEqual({
      text: "alice's",
    });
    expect((await submit("alice")).job.status).toBe("queued");
  });

  it("refuses a call without a user as UNAUTHENTICATED", async () => {
    h = await createHarness(memory, { start: false });
    expect(await codeOf(h.runtime.service.get({ id: "" }, "x"))).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("limits the submit rate with a time to retry", async () => {
    h = await createHarness(memory, {
      start: false,
      limits: {
        submitsPerWindow: 2,
        rateWindowMs: 10_000,
        maxQueuedPerOwner: 10,
      },
    });
    await h.submit("alice");
    await h.clock.advance(4000);
    await h.submit("alice");
    const error = await h.submit("alice").catch((e: ImageJobError) => e);
    expect(error).toMatchObject({ code: "RATE_LIMITED", retryAfterMs: 6000 });
    await h.clock.advance(6000);
    expect((await h.submit("alice")).job.status).toBe("queued");
  });

  it("refuses unknown input fields and disabled priorities, naming them", async () => {
    h = await createHarness(memory, { start: false });
    const error = (await h.runtime.service
      .submit(h.user("alice"), {
        conversationId: "c",
        request: { prompt: "x" },
        priority: 5,
        callbackUrl: "http://evil",
      } as never)
      .catch((e: ImageJobError) => e)) as ImageJobError;
    expect(error.code).toBe("INVALID_REQUEST");
    expect(error.fields.map((f) => f.field).sort()).toEqual([
      "callbackUrl",
      "priority",
    ]);
  });

  it("retry makes a new job with a new ticket, same message and seed; the old one stays", async () => {
    h = await createHarness(memory);
    const first = await h.submit("alice", { seed: -1 });
    expect(first.job.request.seed).toBeGreaterThanOrEqual(0);
    (await h.backends[0]!.run(0)).fail(new ImageJobError("GPU_ERROR"));
    await h.until(async () => (await h.job(first.job.id)).status === "failed");
    expect(
      await codeOf(
        h.runtime.service.retry(
          h.user("alice"),
          (await h.submit("alice")).job.id,
        ),
      ),
    ).toBe("INVALID_REQUEST");

    const retried = await h.runtime.service.retry(
      h.user("alice"),
      first.job.id,
    );
    expect(retried.job).toMatchObject({
      retryOf: first.job.id,
      messageId: first.job.messageId,
      request: first.job.request,
      status: "queued",
    });
    expect(retried.job.ticket).toBeGreaterThan(first.job.ticket);
    expect((await h.job(first.job.id)).status).toBe("failed");
    await h.runtime.relay.idle();
    expect(await h.metadata(first.job.messageId!)).toMatchObject({
      jobId: retried.job.id,
      status: "queued",
    });
  });

  it("a patch for a deleted message is logged and the job goes on", async () => {
    h = await createHarness(memory);
    const { job } = await h.submit("alice");
    await h.stores.deleteMessage(job.messageId!);
    (await h.backends[0]!.run(0)).succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");
  });

  it("stats() reports depth, oldest wait, running jobs, breakers and the last sweep", async () => {
    h = await createHarness(memory);
    await h.submit("alice");
    await h.submit("bob");
    await h.backends[0]!.run(0);
    await h.clock.advance(5000);
    await h.runtime.sweeper!.sweep();
    const stats = await h.runtime.service.stats();
    expect(stats.queues).toEqual([
      {
        queue: "default",
        queued: 1,
        running: 1,
        oldestWaitMs: 5000,
        meanRunMs: null,
        backends: [{ id: h.backends[0]!.id, breaker: "closed" }],
      },
    ]);
    expect(stats.lastSweep?.at).toBe(h.clock.now());
  });
});
