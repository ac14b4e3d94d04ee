import { ImageJobError } from "../errors.js";
import type { TimerHandle } from "../ports/clock.js";
import type { LogEntry } from "../ports/event-log.js";
import type { AuthUser, JobSnapshot, SubmitJobInput } from "../service.js";
import {
  type ClientMessage,
  parseClientMessage,
  type SubscriptionTarget,
} from "./client-message.js";
import type {
  GatewayConnection,
  GatewayTransport,
} from "./gateway-transport.js";
import { CLOSE_CODES, PROTOCOL_VERSION } from "./protocol-version.js";
import type { RealtimeGateway } from "./realtime-gateway.js";
import type { PositionMessage, ServerMessage } from "./server-message.js";

type Message<T extends ClientMessage["type"]> = Extract<
  ClientMessage,
  { type: T }
>;

/** The key of a subscription target within one connection. */
export function targetKey(target: SubscriptionTarget): string {
  return target.kind === "job"
    ? `job:${target.jobId}`
    : `conversation:${target.conversationId}`;
}

/**
 * One socket's side of the gateway: its user, subscriptions, a cursor per
 * queue, and the bytes it has not yet written. Frames are answered in the
 * order they arrive; events of a queue are sent in log order.
 */
export class ConnectionSession implements GatewayConnection {
  readonly #gateway: RealtimeGateway;
  readonly #transport: GatewayTransport;
  readonly #onEnd: () => void;
  readonly #subscriptions = new Map<string, SubscriptionTarget>();
  readonly #cursors = new Map<string, string | null>();
  /** The cursor per queue the client was last given, and entries since. */
  readonly #told = new Map<string, { cursor: string | null; since: number }>();
  readonly #pumps = new Map<string, { running: boolean; again: boolean }>();
  readonly #watched = new Set<string>();
  readonly #positionVersions = new Map<string, number>();
  #user: AuthUser | null = null;
  #chain: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #heard = true;
  #timer: TimerHandle | null = null;
  #ended = false;

  constructor(
    gateway: RealtimeGateway,
    transport: GatewayTransport,
    onEnd: () => void,
  ) {
    this.#gateway = gateway;
    this.#transport = transport;
    this.#onEnd = onEnd;
    this.#schedulePing();
  }

  get user(): AuthUser | null {
    return this.#user;
  }

  receive(text: string): void {
    if (this.#ended) return;
    this.#heard = true;
    this.#chain = this.#chain
      .then(() => this.#handle(text))
      .catch((error) => {
        this.#gateway.logger.error({ err: error }, "realtime frame failed");
      });
  }

  idle(): Promise<void> {
    return this.#chain;
  }

  close(): void {
    this.#end();
  }

  /** Closes the socket from the server's side. */
  shutdown(code: number, reason: string): void {
    if (this.#ended) return;
    this.#end();
    this.#transport.close(code, reason);
  }

  /** Sends the queue's new events to this socket, in order, once. */
  pump(queue: string): void {
    if (this.#ended || !this.#cursors.has(queue)) return;
    let state = this.#pumps.get(queue);
    if (!state) {
      state = { running: false, again: false };
      this.#pumps.set(queue, state);
    }
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    const pumpState = state;
    const run = async () => {
      try {
        do {
          pumpState.again = false;
          await this.#drain(queue);
        } while (pumpState.again && !this.#ended);
      } catch (error) {
        this.#gateway.logger.error({ queue, err: error }, "event pump failed");
      } finally {
        pumpState.running = false;
      }
    };
    void run();
  }

  /** Sends a waiting job's position unless a newer one went out already. */
  position(message: PositionMessage): void {
    const last = this.#positionVersions.get(message.jobId);
    if (last !== undefined && last >= message.queueVersion) return;
    this.#positionVersions.set(message.jobId, message.queueVersion);
    this.#send(message);
  }

  async #handle(text: string): Promise<void> {
    if (this.#ended) return;
    const parsed = parseClientMessage(
      text,
      this.#gateway.settings.maxFrameBytes,
    );
    if (!parsed.ok) {
      this.#send({
        type: "error",
        id: parsed.id,
        error: parsed.error.toPublic(),
      });
      return;
    }

    const message = parsed.message;
    if (message.type === "ping") return void this.#send({ type: "pong" });
    if (message.type === "pong") return;
    if (this.#user === null) {
      if (message.type === "authenticate") return this.#authenticate(message);
      return this.#refuse("id" in message ? message.id : null);
    }

    const id = "id" in message ? message.id : null;
    try {
      switch (message.type) {
        case "authenticate":
          throw new ImageJobError("INVALID_REQUEST", {
            fields: [{ field: "type", message: "already authenticated" }],
          });
        case "subscribe":
          return await this.#subscribe(message);
        case "unsubscribe":
          this.#subscriptions.delete(targetKey(message.target));
          return void this.#send({ type: "ack", id: message.id });
        case "submit":
        case "cancel":
        case "retry":
          return void this.#send({
            type: "result",
            id: message.id,
            snapshot: await this.#call(message),
          });
      }
    } catch (error) {
      this.#send({
        type: "error",
        id,
        error: this.#gateway.publicError(error),
      });
    }
  }

  async #authenticate(message: Message<"authenticate">): Promise<void> {
    if (message.version !== PROTOCOL_VERSION) {
      const error = new ImageJobError("INVALID_REQUEST", {
        fields: [
          {
            field: "version",
            message: `must be ${PROTOCOL_VERSION}; this server speaks protocol ${PROTOCOL_VERSION}`,
          },
        ],
        userMessage: "This page is out of date. Please reload it.",
      });
      this.#send({ type: "error", id: null, error: error.toPublic() });
      return this.shutdown(CLOSE_CODES.protocolError, "protocol version");
    }

    let user = this.#transport.user ?? null;
    const { authenticate } = this.#gateway;
    if (!user && message.token !== undefined && authenticate) {
      try {
        user = await authenticate(message.token);
      } catch (error) {
        this.#gateway.logger.warn({ err: error }, "authenticate threw");
        user = null;
      }
    }
    if (!user || typeof user.id !== "string" || user.id === "") {
      return this.#refuse(null);
    }

    this.#user = user;
    this.#send({
      type: "ready",
      version: PROTOCOL_VERSION,
      pingIntervalMs: this.#gateway.settings.pingIntervalMs,
    });
  }

  #refuse(id: string | null): void {
    const error = new ImageJobError("UNAUTHENTICATED").toPublic();
    this.#send({ type: "error", id, error });
    this.shutdown(CLOSE_CODES.unauthenticated, "UNAUTHENTICATED");
  }

  async #call(
    message: Message<"submit" | "cancel" | "retry">,
  ): Promise<JobSnapshot> {
    const { service } = this.#gateway;
    const user = this.#user!;
    if (message.type === "submit") {
      return service.submit(user, message.input as unknown as SubmitJobInput);
    }
    if (message.type === "cancel") return service.cancel(user, message.jobId);
    return service.retry(user, message.jobId);
  }

  async #subscribe(message: Message<"subscribe">): Promise<void> {
    const { target } = message;
    const { events, service } = this.#gateway;
    // Checks access first: another user's job answers NOT_FOUND, unchanged.
    let jobs = await this.#load(target);
    const key = targetKey(target);
    this.#subscriptions.set(key, target);

    const queues = new Set([
      ...service.queues,
      ...jobs.map((j) => j.job.queue),
    ]);
    let resync = false;
    const fresh: string[] = [];
    for (const queue of queues) {
      if (this.#cursors.has(queue)) continue;
      const given = message.cursors?.[queue];
      if (given !== undefined) {
        const probe = await events.read(queue, given, 1);
        if (!probe.resync) {
          this.#cursors.set(queue, given);
          continue;
        }
        resync = true;
      }
      // The head is taken before the snapshot, so nothing falls between.
      this.#cursors.set(queue, await events.head(queue));
      fresh.push(queue);
    }
    if (fresh.length > 0) jobs = await this.#load(target);

    for (const snapshot of jobs)
      this.#track(snapshot.job.id, snapshot.job.status);
    this.#send({
      type: "snapshot",
      id: message.id,
      target,
      jobs,
      cursors: this.#cursorRecord(),
      resync,
    });
    // A socket that starts reading a queue now has missed its last service
    // event: tell it the status as it stands.
    for (const queue of fresh) {
      const cursor = this.#cursors.get(queue);
      if (cursor === null || cursor === undefined) continue;
      const status = await service.serviceStatus(queue);
      this.#send({ type: "service", queue, cursor, status });
    }
    for (const queue of queues) this.pump(queue);
  }

  async #load(target: SubscriptionTarget): Promise<JobSnapshot[]> {
    const { service } = this.#gateway;
    const user = this.#user!;
    if (target.kind === "job") return [await service.get(user, target.jobId)];
    return service.list(user, {
      conversationId: target.conversationId,
      limit: 500,
    });
  }

  async #drain(queue: string): Promise<void> {
    const { readBatch, cursorEveryEntries } = this.#gateway.settings;
    for (;;) {
      const cursor = this.#cursors.get(queue);
      if (cursor === undefined || this.#ended) return;
      const read = await this.#gateway.read(queue, cursor);
      if (this.#ended || this.#cursors.get(queue) !== cursor) continue;
      if (read.resync) {
        await this.#resync(queue);
        continue;
      }
      for (const entry of read.entries) {
        if (this.#ended) return;
        const sent = await this.#deliver(queue, entry);
        this.#cursors.set(queue, entry.cursor);
        this.#passed(queue, sent ? entry.cursor : null);
      }
      const told = this.#told.get(queue);
      if (told && told.since >= cursorEveryEntries) this.#tellCursor(queue);
      if (read.entries.length < readBatch) return;
    }
  }

  /** Sends the entry if this socket follows it; true when it did. */
  async #deliver(queue: string, entry: LogEntry): Promise<boolean> {
    const { event, cursor } = entry;
    if (event.type === "service") {
      this.#send({ type: "service", queue, cursor, status: event.status });
      return true;
    }

    const { job } = event;
    const followed =
      this.#subscriptions.has(`job:${job.id}`) ||
      this.#subscriptions.has(`conversation:${job.conversationId}`);
    if (!followed) return false;
    const user = this.#user!;
    const allowed =
      event.owner === user.id ||
      (await this.#gateway.authorize(
        user,
        {
          kind: "job",
          jobId: job.id,
          owner: event.owner,
          conversationId: job.conversationId,
        },
        "read",
      ));
    if (!allowed) return false;
    this.#track(job.id, job.status);
    this.#send({ type: "job", queue, cursor, job, position: event.position });
    return true;
  }

  /** Counts an entry gone by; `sent` is its cursor when the client got it. */
  #passed(queue: string, sent: string | null): void {
    const told = this.#told.get(queue);
    if (sent !== null) this.#told.set(queue, { cursor: sent, since: 0 });
    else if (told) told.since += 1;
    else this.#told.set(queue, { cursor: null, since: 1 });
  }

  /** Tells the client its newest cursor in `queue`, unless it has it. */
  #tellCursor(queue: string): void {
    const cursor = this.#cursors.get(queue);
    if (cursor === undefined || cursor === null) return;
    if (this.#told.get(queue)?.cursor === cursor) return;
    this.#told.set(queue, { cursor, since: 0 });
    this.#send({ type: "cursor", queue, cursor });
  }

  async #resync(queue: string): Promise<void> {
    this.#cursors.set(queue, await this.#gateway.events.head(queue));
    for (const target of this.#subscriptions.values()) {
      let jobs: JobSnapshot[];
      try {
        jobs = await this.#load(target);
      } catch (error) {
        const publicError = this.#gateway.publicError(error);
        this.#send({ type: "error", id: null, error: publicError });
        continue;
      }
      for (const snapshot of jobs)
        this.#track(snapshot.job.id, snapshot.job.status);
      this.#send({
        type: "snapshot",
        id: null,
        target,
        jobs,
        cursors: this.#cursorRecord(),
        resync: true,
      });
    }
  }

  #track(jobId: string, status: string): void {
    if (status === "queued") {
      this.#watched.add(jobId);
      this.#gateway.watch(jobId, this);
    } else if (this.#watched.delete(jobId)) {
      this.#gateway.unwatch([jobId], this);
      this.#positionVersions.delete(jobId);
    }
  }

  /** Every cursor held, as a snapshot tells them to the client. */
  #cursorRecord(): Record<string, string> {
    const record: Record<string, string> = {};
    for (const [queue, cursor] of this.#cursors) {
      this.#told.set(queue, { cursor, since: 0 });
      if (cursor !== null) record[queue] = cursor;
    }
    return record;
  }

  #send(message: ServerMessage): void {
    if (this.#ended) return;
    const text = JSON.stringify(message);
    const buffered = this.#inFlight + (this.#transport.bufferedAmount?.() ?? 0);
    if (buffered + text.length > this.#gateway.settings.maxBufferedBytes) {
      this.#slow(buffered);
      return;
    }

    try {
      const sent = this.#transport.send(text);
      if (sent && typeof sent.then === "function") {
        this.#inFlight += text.length;
        const done = () => {
          this.#inFlight -= text.length;
        };
        sent.then(done, done);
      }
    } catch (error) {
      this.#gateway.logger.warn({ err: error }, "send failed; closing socket");
      this.shutdown(CLOSE_CODES.goingAway, "send failed");
    }
  }

  #slow(buffered: number): void {
    this.#gateway.logger.warn(
      { user: this.#user?.id, buffered },
      "socket fell behind; closing with SLOW_CONSUMER",
    );
    const error = new ImageJobError("SLOW_CONSUMER").toPublic();
    try {
      // Over the bound on purpose: it tells the client why, if it ever reads.
      void this.#transport.send(
        JSON.stringify({ type: "error", id: null, error }),
      );
    } catch {
      // The close code says the same.
    }
    this.shutdown(CLOSE_CODES.slowConsumer, "SLOW_CONSUMER");
  }

  #schedulePing(): void {
    const { pingIntervalMs } = this.#gateway.settings;
    if (pingIntervalMs <= 0 || this.#ended) return;
    this.#timer = this.#gateway.clock.setTimeout(() => {
      if (this.#ended) return;
      if (!this.#heard) {
        return this.shutdown(CLOSE_CODES.pingTimeout, "ping timeout");
      }
      this.#heard = false;
      if (this.#user !== null) {
        // A quiet client's cursors keep up with the log between events.
        for (const queue of this.#cursors.keys()) this.#tellCursor(queue);
        this.#send({ type: "ping" });
      }
      this.#schedulePing();
    }, pingIntervalMs);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== null) this.#gateway.clock.clearTimeout(this.#timer);
    this.#gateway.unwatch(this.#watched, this);
    this.#watched.clear();
    this.#onEnd();
  }
}
