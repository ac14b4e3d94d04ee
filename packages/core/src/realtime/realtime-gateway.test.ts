import { afterEach, describe, expect, it, vi } from "vitest";
import { ImageJobClient } from "../client/image-job-client.js";
import type { JobChangedEvent } from "../events.js";
import type { JobView } from "../job.js";
import { MemoryEventLog } from "../memory/memory-event-log.js";
import { createImageJobs, type ImageJobs } from "../runtime.js";
import type { Authorize, AuthUser } from "../service.js";
import { FakeClock } from "../testing/fake-clock.js";
import { ScriptedGpuBackend } from "../testing/scripted-gpu-backend.js";
import { createInProcessSockets } from "./in-process-sockets.js";
import { RealtimeGateway } from "./realtime-gateway.js";
import type { ServerMessage } from "./server-message.js";

const alice: AuthUser = { id: "alice" };
const bob: AuthUser = { id: "bob" };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(
  options: {
    maxEntries?: number;
    authorize?: Authorize;
    buffer?: number;
    cursorEvery?: number;
  } = {},
) {
  const backend = new ScriptedGpuBackend();
  const events = new MemoryEventLog({ maxEntries: options.maxEntries });
  const jobs = createImageJobs({
    backends: [backend],
    stores: { events },
    sweepIntervalMs: 0,
    progressIntervalMs: 0,
    pollMs: 10,
    authorize: options.authorize,
  });
  jobs.start();
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events,
    authorize: options.authorize,
    pingIntervalMs: 0,
    maxBufferedBytes: options.buffer,
    cursorEveryEntries: options.cursorEvery,
  });
  cleanups.push(async () => {
    gateway.close();
    await jobs.close();
  });
  return { backend, jobs, gateway, events };
}

/** A gateway connection whose frames land in an array. */
function client(
  gateway: RealtimeGateway,
  user: AuthUser,
  sink: (text: string) => void | Promise<void> = () => {},
) {
  const frames: ServerMessage[] = [];
  let closed: { code: number; reason: string } | null = null;
  const connection = gateway.connect({
    user,
    send: (text) => {
      frames.push(JSON.parse(text));
      return sink(text);
    },
    close: (code, reason) => {
      closed = { code, reason };
    },
  });
  const send = (message: unknown) =>
    connection.receive(
      typeof message === "string" ? message : JSON.stringify(message),
    );
  send({ type: "authenticate", version: 1 });
  return {
    frames,
    connection,
    send,
    closed: () => closed,
    of: <T extends ServerMessage["type"]>(type: T) =>
      frames.filter(
        (f): f is Extract<ServerMessage, { type: T }> => f.type === type,
      ),
  };
}

function submit(jobs: ImageJobs, user: AuthUser, conversationId = "c1") {
  return jobs.service.submit(user, {
    conversationId,
    request: { prompt: "a lighthouse at dusk", steps: 40 },
  });
}

describe("realtime gateway", () => {
  it("S12 a user who subscribes while the breaker is open hears the service is recovering", async () => {
    const { jobs, gateway } = setup();
    // The worker has taken its backend and reported its breaker closed.
    await vi.waitFor(async () =>
      expect((await jobs.context.jobs.stats("default")).backends).toHaveLength(
        1,
      ),
    );
    await jobs.context.jobs.reportBreaker({
      backendId: "gpu-1",
      queue: "default",
      state: "open",
      now: Date.now(),
    });
    await jobs.context.relay.publishService({
      type: "service",
      queue: "default",
      status: "recovering",
      backends: [{ id: "gpu-1", breaker: "open" }],
      at: Date.now(),
    });
    const late = client(gateway, alice);
    late.send({
      type: "subscribe",
      id: "s1",
      target: { kind: "conversation", conversationId: "c1" },
    });
    await vi.waitFor(() =>
      expect(late.of("service").map((m) => m.status)).toEqual(["recovering"]),
    );
    expect(late.frames.map((f) => f.type).indexOf("snapshot")).toBeLessThan(
      late.frames.map((f) => f.type).indexOf("service"),
    );
  });

  it("S15 reconnect with a cursor gets exactly the missed events", async () => {
    const { jobs, gateway, backend, events } = setup();
    const conversation = { kind: "conversation", conversationId: "c1" };
    const first = client(gateway, alice);
    first.send({ type: "subscribe", id: "s1", target: conversation });
    await first.connection.idle();
    const { job } = await submit(jobs, alice);
    const run = await backend.run(0);
    for (let step = 1; step <= 3; step += 1) run.step(step);
    // queued (v1), running (v2), steps 1..3 (v3..v5): five events seen.
    await vi.waitFor(() =>
      expect(first.of("job").map((m) => m.job.version)).toEqual([
        1, 2, 3, 4, 5,
      ]),
    );
    const cursor = first.of("job").at(-1)!.cursor;
    first.connection.close();

    for (let step = 4; step <= 18; step += 1) run.step(step);
    await vi.waitFor(async () =>
      expect((await jobs.service.get(alice, job.id)).job.version).toBe(20),
    );
    const missed = await events.read("default", cursor, 1000);
    expect(missed.entries).toHaveLength(15);

    const second = client(gateway, alice);
    second.send({
      type: "subscribe",
      id: "s2",
      target: conversation,
      cursors: { default: cursor },
    });
    await vi.waitFor(() => expect(second.of("job")).toHaveLength(15));
    await second.connection.idle();
    const got = second.of("job");
    expect(got.map((m) => m.cursor)).toEqual(
      missed.entries.map((e) => e.cursor),
    );
    expect(got.map((m) => m.job.version)).toEqual(
      Array.from({ length: 15 }, (_, index) => 6 + index),
    );
    expect(second.of("snapshot")[0]?.resync).toBe(false);
  });

  it("S15 a cursor older than the log keeps gets a snapshot and a resync mark", async () => {
    const { jobs, gateway, backend } = setup({ maxEntries: 4 });
    const conversation = { kind: "conversation", conversationId: "c1" };
    const first = client(gateway, alice);
    first.send({ type: "subscribe", id: "s1", target: conversation });
    await first.connection.idle();
    const { job } = await submit(jobs, alice);
    const run = await backend.run(0);
    await vi.waitFor(() => expect(first.of("job").length).toBe(2));
    const cursor = first.of("job").at(-1)!.cursor;
    first.connection.close();
    for (let step = 1; step <= 10; step += 1) run.step(step);
    await vi.waitFor(async () =>
      expect((await jobs.service.get(alice, job.id)).job.version).toBe(12),
    );

    const second = client(gateway, alice);
    second.send({
      type: "subscribe",
      id: "s2",
      target: conversation,
      cursors: { default: cursor },
    });
    await vi.waitFor(() => expect(second.of("snapshot")).toHaveLength(1));
    const [snapshot] = second.of("snapshot");
    expect(snapshot!.resync).toBe(true);
    expect(snapshot!.jobs[0]!.job.version).toBe(12);
    expect(snapshot!.jobs[0]!.job.progress?.step).toBe(10);
  });

  it("S28 another user's job answers NOT_FOUND and changes nothing", async () => {
    const { jobs, gateway, backend } = setup();
    const { job } = await submit(jobs, alice);
    await backend.run(0);
    await vi.waitFor(async () =>
      expect((await jobs.service.get(alice, job.id)).job.status).toBe(
        "running",
      ),
    );
    const before = await jobs.service.get(alice, job.id);
    const mallory = client(gateway, bob);
    mallory.send({
      type: "subscribe",
      id: "a",
      target: { kind: "job", jobId: job.id },
    });
    mallory.send({ type: "cancel", id: "b", jobId: job.id });
    mallory.send({ type: "retry", id: "c", jobId: job.id });
    mallory.send({
      type: "subscribe",
      id: "d",
      target: { kind: "job", jobId: "no-such-job" },
    });
    await mallory.connection.idle();

    const errors = mallory.of("error");
    expect(errors.map((e) => [e.id, e.error.code])).toEqual([
      ["a", "NOT_FOUND"],
      ["b", "NOT_FOUND"],
      ["c", "NOT_FOUND"],
      ["d", "NOT_FOUND"],
    ]);
    // The same answer as for a job that does not exist: no hint it exists.
    expect(errors[0]!.error).toEqual(errors[3]!.error);
    expect(await jobs.service.get(alice, job.id)).toEqual(before);
    expect(backend.runs[0]!.interrupted).toBe(false);
    expect(mallory.of("job")).toHaveLength(0);
    expect(mallory.of("result")).toHaveLength(0);
  });

  it("S28 another user's conversation answers NOT_FOUND; by default its jobs never reach them", async () => {
    const owners = new Map([["c-alice", "alice"]]);
    const authorize: Authorize = (user, resource) =>
      resource.kind === "job"
        ? resource.owner === user.id
        : (owners.get(resource.conversationId) ?? user.id) === user.id;
    const app = setup({ authorize });
    const mallory = client(app.gateway, bob);
    mallory.send({
      type: "subscribe",
      id: "x",
      target: { kind: "conversation", conversationId: "c-alice" },
    });
    await mallory.connection.idle();
    expect(mallory.of("error").map((e) => e.error.code)).toEqual(["NOT_FOUND"]);

    const open = setup();
    const { job } = await submit(open.jobs, alice, "shared");
    const watcher = client(open.gateway, bob);
    watcher.send({
      type: "subscribe",
      id: "y",
      target: { kind: "conversation", conversationId: "shared" },
    });
    const run = await open.backend.run(0);
    run.step(1);
    run.succeed();
    await vi.waitFor(async () =>
      expect((await open.jobs.service.get(alice, job.id)).job.status).toBe(
        "succeeded",
      ),
    );
    await open.jobs.relay.idle();
    await watcher.connection.idle();
    expect(watcher.of("snapshot")[0]!.jobs).toEqual([]);
    expect(watcher.of("job")).toHaveLength(0);
  });

  it("S03 positions are pushed as the queue changes, computed once per change", async () => {
    const { jobs, gateway, backend } = setup();
    await submit(jobs, alice, "c-a");
    await backend.run(0);
    const mine: JobView[] = [];
    for (let index = 0; index < 3; index += 1)
      mine.push((await submit(jobs, bob, "c-b")).job);
    const waiting = vi.spyOn(jobs.service, "waiting");
    const watchers = Array.from({ length: 10 }, () => client(gateway, bob));
    for (const watcher of watchers) {
      watcher.send({
        type: "subscribe",
        id: "s",
        target: { kind: "conversation", conversationId: "c-b" },
      });
    }
    await Promise.all(watchers.map((w) => w.connection.idle()));
    const positions = watchers[0]!
      .of("snapshot")[0]!
      .jobs.map((j) => j.position?.position);
    expect(positions.sort()).toEqual([1, 2, 3]);
    const calls = waiting.mock.calls.length;

    await jobs.service.cancel(bob, mine[0]!.id);
    await vi.waitFor(() => {
      for (const watcher of watchers) {
        const latest = watcher
          .of("position")
          .filter((p) => p.jobId === mine[2]!.id)
          .at(-1);
        expect(latest?.position).toBe(2);
        expect(latest?.queueSize).toBe(2);
      }
    });
    // One cancel is one queue change: one computation for all ten sockets.
    expect(waiting.mock.calls.length - calls).toBe(1);
  });

  it("200 clients: a slow one never delays the others, is closed with SLOW_CONSUMER and resumes", async () => {
    const { jobs, gateway, events } = setup({ buffer: 64 * 1024 });
    const fast = Array.from({ length: 199 }, () => client(gateway, alice));
    const stuck: ServerMessage[] = [];
    const slow = client(gateway, alice, (text) => {
      stuck.push(JSON.parse(text));
      return new Promise<void>(() => {});
    });
    for (const c of [...fast, slow]) {
      c.send({
        type: "subscribe",
        id: "s",
        target: { kind: "conversation", conversationId: "c1" },
      });
    }
    await Promise.all([...fast, slow].map((c) => c.connection.idle()));
    const template = (await submit(jobs, alice)).job;
    const started = performance.now();
    const total = 1000;
    for (let index = 1; index <= total; index += 1) {
      const event: JobChangedEvent = {
        type: "job",
        owner: "alice",
        position: null,
        job: { ...template, id: `synthetic-${index}`, version: index },
      };
      await events.append({
        queue: "default",
        event,
        dedupeKey: `s${index}`,
        now: 0,
      });
    }
    const expected = (await events.read("default", null, 5000)).entries
      .filter(
        (e) =>
          e.event.type === "job" && e.event.job.id.startsWith("synthetic-"),
      )
      .map((e) => e.cursor);
    expect(expected).toHaveLength(total);
    await vi.waitFor(
      () => {
        for (const c of fast)
          expect(
            c.of("job").filter((m) => m.job.id.startsWith("synthetic-")),
          ).toHaveLength(total);
      },
      { timeout: 15_000 },
    );
    const elapsed = performance.now() - started;
    console.log(`200 clients x ${total} events: ${elapsed.toFixed(0)} ms`);

    for (const c of fast) {
      const cursors = c
        .of("job")
        .filter((m) => m.job.id.startsWith("synthetic-"))
        .map((m) => m.cursor);
      expect(cursors).toEqual(expected);
      expect(c.closed()).toBeNull();
    }
    expect(slow.closed()).toEqual({ code: 4008, reason: "SLOW_CONSUMER" });
    const received = stuck.filter(
      (m): m is Extract<ServerMessage, { type: "job" }> => m.type === "job",
    );
    expect(received.length).toBeLessThan(total);
    expect(stuck.at(-1)).toMatchObject({
      type: "error",
      error: { code: "SLOW_CONSUMER" },
    });

    const again = client(gateway, alice);
    again.send({
      type: "subscribe",
      id: "r",
      target: { kind: "conversation", conversationId: "c1" },
      cursors: { default: received.at(-1)!.cursor },
    });
    await vi.waitFor(() =>
      expect(
        again.of("job").filter((m) => m.job.id.startsWith("synthetic-")).length,
      ).toBe(
        total -
          received.filter((m) => m.job.id.startsWith("synthetic-")).length,
      ),
    );
    const all = [...received, ...again.of("job")]
      .filter((m) => m.job.id.startsWith("synthetic-"))
      .map((m) => m.cursor);
    expect(all).toEqual(expected);
  });
});

it("S15 a quiet client's cursor keeps up with events it does not follow, so its reconnect resumes without a resync", async () => {
  const { jobs, gateway, events } = setup({ maxEntries: 30, cursorEvery: 10 });
  const template = (await submit(jobs, bob, "c2")).job;
  const others = async (from: number, count: number) => {
    for (let index = from; index < from + count; index += 1) {
      const event: JobChangedEvent = {
        type: "job",
        owner: "bob",
        position: null,
        job: { ...template, id: `other-${index}`, version: 1 },
      };
      await events.append({
        queue: "default",
        event,
        dedupeKey: `o${index}`,
        now: 0,
      });
    }
  };
  // Every frame the gateway sends, whichever socket it goes to.
  const sent: ServerMessage[] = [];
  const connect = gateway.connect.bind(gateway);
  gateway.connect = (transport) =>
    connect({
      ...transport,
      send: (text) => {
        sent.push(JSON.parse(text));
        return transport.send(text);
      },
    });
  const sockets = createInProcessSockets(gateway, { user: () => alice });
  const store = new ImageJobClient({
    url: "in-process",
    WebSocket: sockets.WebSocket,
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  cleanups.push(() => store.close());
  store.watchConversation("c1");
  await vi.waitFor(() =>
    expect(
      store.getTarget({ kind: "conversation", conversationId: "c1" }),
    ).toMatchObject({ status: "ready" }),
  );
  const first = store.cursors.default;
  expect(first).toBeDefined();

  // Three times what the log keeps goes by; none of it is alice's.
  await others(0, 90);
  // Told every 10 entries: the last cursor told is at most 9 behind.
  let told = "";
  await vi.waitFor(async () => {
    const last = sent.filter((m) => m.type === "cursor").at(-1);
    expect(last).toMatchObject({ type: "cursor", queue: "default" });
    told = (last as Extract<ServerMessage, { type: "cursor" }>).cursor;
    const after = await events.read("default", told, 100);
    expect(after.resync).toBe(false);
    expect(after.entries.length).toBeLessThan(10);
  });
  expect(store.cursors.default).toBe(told);
  expect(sent.filter((m) => m.type === "job")).toEqual([]);
  // Now and then, not once per event.
  expect(sent.filter((m) => m.type === "cursor").length).toBeLessThanOrEqual(9);
  expect((await events.read("default", first!, 1)).resync).toBe(true);

  sent.length = 0;
  sockets.dropAll();
  await vi.waitFor(() =>
    expect(sent.find((m) => m.type === "snapshot")).toBeDefined(),
  );
  expect(sent.find((m) => m.type === "snapshot")).toMatchObject({
    resync: false,
    cursors: { default: told },
  });
  expect(store.getSnapshot().connection).toBe("open");
});

it("a ping tells a quiet socket its newest cursor when fewer than cursorEveryEntries went by", async () => {
  const { jobs, events } = setup();
  const clock = new FakeClock();
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events,
    pingIntervalMs: 1000,
    clock,
  });
  cleanups.push(() => gateway.close());
  const quiet = client(gateway, alice);
  quiet.send({
    type: "subscribe",
    id: "s",
    target: { kind: "conversation", conversationId: "c1" },
  });
  await vi.waitFor(() => expect(quiet.of("snapshot")).toHaveLength(1));
  for (let index = 0; index < 3; index += 1) await submit(jobs, bob, "c2");
  const head = await events.head("default");
  const tick = async () => {
    quiet.send({ type: "pong" });
    await quiet.connection.idle();
    await clock.advance(1000);
  };
  // Fewer than cursorEveryEntries (100) went by: only a ping tells it.
  await vi.waitFor(async () => {
    await tick();
    expect(quiet.of("cursor").at(-1)).toEqual({
      type: "cursor",
      queue: "default",
      cursor: head,
    });
  });
  const told = quiet.of("cursor").length;
  expect(told).toBeLessThanOrEqual(3);
  expect(quiet.of("job")).toEqual([]);

  await tick();
  await tick();
  // Nothing new went by: the cursor is not told again; the socket stays.
  expect(quiet.of("cursor")).toHaveLength(told);
  expect(quiet.closed()).toBeNull();
  expect(quiet.of("ping").length).toBeGreaterThanOrEqual(3);
});

it("a job the server no longer knows after a reconnect is dropped, not left showing stale progress", async () => {
  const { jobs, gateway } = setup();
  const sockets = createInProcessSockets(gateway, { user: () => alice });
  const store = new ImageJobClient({
    url: "in-process",
    WebSocket: sockets.WebSocket,
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  cleanups.push(() => store.close());
  const { job } = await submit(jobs, alice);
  store.watchJob(job.id);
  await vi.waitFor(() => expect(store.getJob(job.id)).toBeDefined());

  // Gone from the server: cancelled and past retention.
  await jobs.service.cancel(alice, job.id);
  await jobs.context.jobs.purge({
    finishedBefore: Date.now() + 1000,
    now: Date.now(),
    limit: 10,
  });
  sockets.dropAll();
  await vi.waitFor(() =>
    expect(store.getTarget({ kind: "job", jobId: job.id })).toMatchObject({
      status: "error",
      error: { code: "NOT_FOUND" },
    }),
  );
  expect(store.getJob(job.id)).toBeUndefined();
});

it("S27 a broken frame and a bad image setting get different words for the user", async () => {
  const { gateway } = setup();
  const socket = client(gateway, alice);
  socket.send("{not json");
  socket.send({
    type: "submit",
    id: "r1",
    input: { conversationId: "c1", request: { prompt: "x", width: 513 } },
  });
  socket.send({ type: "cancel", id: "r2", jobId: 42 });
  await vi.waitFor(() => expect(socket.of("error")).toHaveLength(3));
  const [frame, settings, envelope] = socket.of("error").map((m) => m.error);
  expect(frame).toMatchObject({ code: "INVALID_REQUEST" });
  expect(frame?.message).toMatch(/could not read/);
  expect(settings?.message).toMatch(/image settings/);
  expect(settings?.fields?.map((f) => f.field)).toEqual(["width"]);
  expect(envelope?.message).toMatch(/could not read/);
  expect(socket.closed()).toBeNull();
});
