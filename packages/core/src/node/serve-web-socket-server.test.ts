import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import fc from "fast-check";
import { afterEach, expect, it, vi } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { ImageJobClient } from "../client/image-job-client.js";
import type { JobChangedEvent } from "../events.js";
import { MemoryEventLog } from "../memory/memory-event-log.js";
import { RealtimeGateway } from "../realtime/realtime-gateway.js";
import type { ServerMessage } from "../realtime/server-message.js";
import type { WebSocketConstructor } from "../realtime/web-socket-like.js";
import { createImageJobs } from "../runtime.js";
import { ScriptedGpuBackend } from "../testing/scripted-gpu-backend.js";
import { serveWebSocketServer } from "./serve-web-socket-server.js";

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function serve(options: { buffer?: number } = {}) {
  const backend = new ScriptedGpuBackend();
  const events = new MemoryEventLog();
  const jobs = createImageJobs({
    backends: [backend],
    stores: { events },
    sweepIntervalMs: 0,
    progressIntervalMs: 0,
    pollMs: 10,
  });
  jobs.start();
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events,
    pingIntervalMs: 0,
    maxBufferedBytes: options.buffer,
  });
  const http = createServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 1 << 20 });
  serveWebSocketServer(gateway, wss, {
    authenticate: (request) => ({
      id:
        new URL(request.url ?? "/", "http://x").searchParams.get("user") ?? "",
    }),
    closeTimeoutMs: 200,
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  stops.push(async () => {
    gateway.close();
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
    await jobs.close();
  });
  return {
    backend,
    jobs,
    gateway,
    events,
    wss,
    url: `ws://127.0.0.1:${port}/?user=alice`,
  };
}

/** A raw socket that records every server message. */
async function raw(url: string) {
  const socket = new WebSocket(url);
  const frames: ServerMessage[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "authenticate", version: 1 }));
  await vi.waitFor(() => expect(frames[0]?.type).toBe("ready"));
  stops.push(() => socket.terminate());
  return { socket, frames };
}

it("S27 malformed frames over a real socket each get INVALID_REQUEST naming the field; nothing is queued", async () => {
  const { jobs, url } = await serve();
  const { socket, frames } = await raw(url);
  const seed = Date.now();
  const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);
  // Thousands of frames whatever the run count: CI runs 60, locally 100.
  const perRun = Math.ceil(3000 / numRuns);
  let total = 0;
  const id = fc.string({ minLength: 1, maxLength: 10 });
  const junk = fc.jsonValue({ maxDepth: 4 });
  const frame = fc.oneof(
    fc.string().filter((text) => {
      try {
        const value = JSON.parse(text);
        return (
          typeof value !== "object" || value === null || Array.isArray(value)
        );
      } catch {
        return true;
      }
    }),
    fc
      .record({
        type: fc.constantFrom(
          "subscribe",
          "cancel",
          "retry",
          "submit",
          "nope",
          7,
        ),
        id: fc.oneof(
          fc.integer(),
          fc.constant(""),
          fc.string({ minLength: 101, maxLength: 120 }),
        ),
      })
      .map((value) => JSON.stringify(value)),
    fc
      .record({
        type: fc.constantFrom("cancel", "retry"),
        id,
        jobId: fc.string(),
        zz_unknown: junk,
      })
      .map((value) => JSON.stringify(value)),
    fc
      .record({
        type: fc.constant("submit"),
        id,
        input: fc.record({
          conversationId: fc.constant("c1"),
          request: fc.record({
            prompt: fc.string({ maxLength: 3000 }),
            width: fc.oneof(
              fc.integer({ max: -1 }),
              fc.constant(null),
              fc.string(),
            ),
            junk,
          }),
        }),
      })
      .map((value) => JSON.stringify(value)),
    fc.nat({ max: 3 }).map((n) =>
      JSON.stringify({
        type: "cancel",
        id: "big",
        jobId: "x".repeat(70_000 + n),
      }),
    ),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(frame, { minLength: perRun, maxLength: perRun * 2 }),
      async (batch) => {
        total += batch.length;
        const before = frames.length;
        for (const text of batch) socket.send(text);
        await vi.waitFor(() =>
          expect(frames.length - before).toBe(batch.length),
        );
        for (const message of frames.slice(before)) {
          expect(message.type).toBe("error");
          const error = (message as Extract<ServerMessage, { type: "error" }>)
            .error;
          expect(error.code).toBe("INVALID_REQUEST");
          expect(error.fields?.[0]?.field).toBeTruthy();
        }
      },
    ),
    { seed, numRuns },
  );
  console.log(
    `S27 socket fuzz: seed ${seed}, ${numRuns} runs, ${total} frames`,
  );
  expect(total).toBeGreaterThanOrEqual(3000);
  expect(socket.readyState).toBe(WebSocket.OPEN);
  const stats = await jobs.service.stats();
  expect(stats.queues.reduce((sum, q) => sum + q.queued + q.running, 0)).toBe(
    0,
  );
  expect(await jobs.service.list({ id: "alice" })).toEqual([]);
});

it("S17 the client store over ws: a cut socket reconnects, the job stays running, then succeeds", async () => {
  const { backend, jobs, wss, url } = await serve();
  const { job } = await jobs.service.submit(
    { id: "alice" },
    { conversationId: "c1", request: { prompt: "p", steps: 10 } },
  );
  const client = new ImageJobClient({
    url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  stops.push(() => client.close());
  const release = client.watchJob(job.id);
  const run = await backend.run(0);
  run.step(4);
  await vi.waitFor(() =>
    expect(client.getJob(job.id)?.job.progress?.step).toBe(4),
  );
  const seen: string[] = [];
  client.subscribe(() => {
    const line = `${client.getSnapshot().connection}/${client.getJob(job.id)?.job.status}`;
    if (seen.at(-1) !== line) seen.push(line);
  });
  for (const socket of wss.clients) socket.terminate();
  await vi.waitFor(() => expect(seen).toContain("open/running"));
  run.succeed();
  await vi.waitFor(() =>
    expect(client.getJob(job.id)?.job.status).toBe("succeeded"),
  );
  expect(seen[0]).toBe("reconnecting/running");
  release();
});

it("a socket that stops reading is closed with SLOW_CONSUMER and catches up from its cursor, each event once, in order", async () => {
  const { jobs, gateway, events, url } = await serve({ buffer: 256 * 1024 });
  // What the gateway sends and closes, per connection, in connect order.
  const served: { jobs: number; closed: [number, string] | null }[] = [];
  const connect = gateway.connect.bind(gateway);
  gateway.connect = (transport) => {
    const seen = { jobs: 0, closed: null as [number, string] | null };
    served.push(seen);
    return connect({
      ...transport,
      send: (text) => {
        if (text.startsWith('{"type":"job"')) seen.jobs += 1;
        return transport.send(text);
      },
      close: (code, reason) => {
        seen.closed = [code, reason];
        transport.close(code, reason);
      },
    });
  };
  const opened: WebSocket[] = [];
  const received: ServerMessage[] = [];
  class Recording extends WebSocket {
    constructor(address: string) {
      super(address);
      opened.push(this);
      this.on("message", (data) => received.push(JSON.parse(String(data))));
    }
  }
  const client = new ImageJobClient({
    url,
    WebSocket: Recording as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  stops.push(() => client.close());
  client.watchConversation("c1");
  await vi.waitFor(() =>
    expect(
      client.getTarget({ kind: "conversation", conversationId: "c1" }),
    ).toMatchObject({ status: "ready" }),
  );

  // The client stops reading: only the kernel's buffers take bytes now.
  const tcp = (opened[0] as unknown as { _socket: Socket })._socket;
  tcp.pause();
  const template = (
    await jobs.service.submit(
      { id: "alice" },
      { conversationId: "c1", request: { prompt: "p", steps: 10 } },
    )
  ).job;
  const payload = "x".repeat(64 * 1024);
  let appended = 0;
  // Until the gateway gives up on it; 64 MB at most, whatever the kernel holds.
  while (served[0]!.closed === null && appended < 1024) {
    for (let index = 0; index < 16; index += 1) {
      appended += 1;
      const event: JobChangedEvent = {
        type: "job",
        owner: "alice",
        position: null,
        job: {
          ...template,
          id: `big-${appended}`,
          request: { ...template.request, prompt: payload },
        },
      };
      await events.append({
        queue: "default",
        event,
        dedupeKey: `big-${appended}`,
        now: 0,
      });
    }
    await vi.waitFor(() => {
      const first = served[0]!;
      expect(first.closed !== null || first.jobs >= appended + 1).toBe(true);
    });
  }
  expect(served[0]!.closed).toEqual([4008, "SLOW_CONSUMER"]);
  expect(served).toHaveLength(1);

  tcp.resume();
  await vi.waitFor(
    () => {
      const held = Object.keys(client.getSnapshot().jobs).filter((id) =>
        id.startsWith("big-"),
      );
      expect(held).toHaveLength(appended);
    },
    { timeout: 10_000 },
  );
  expect(served).toHaveLength(2);
  const resumed = received.filter((m) => m.type === "snapshot").at(-1);
  expect(resumed).toMatchObject({ resync: false });
  const expected = (await events.read("default", null, 5000)).entries
    .filter((e) => e.event.type === "job" && e.event.job.id.startsWith("big-"))
    .map((e) => e.cursor);
  const got = received
    .filter(
      (m): m is Extract<ServerMessage, { type: "job" }> =>
        m.type === "job" && m.job.id.startsWith("big-"),
    )
    .map((m) => m.cursor);
  expect(got).toEqual(expected);
  expect(client.getSnapshot().connection).toBe("open");
  console.log(
    `slow consumer: closed after ${appended} events of 64 KiB; ${served[1]!.jobs} resent after the cursor`,
  );
});
