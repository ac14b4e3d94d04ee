import { ImageJobError, type PublicError, readPublicError } from "../errors.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import type { SubscriptionTarget } from "../realtime/client-message.js";
import { CLOSE_CODES, PROTOCOL_VERSION } from "../realtime/protocol-version.js";
import {
  parseServerMessage,
  type ServerMessage,
} from "../realtime/server-message.js";
import type {
  WebSocketConstructor,
  WebSocketLike,
} from "../realtime/web-socket-like.js";
import type { JobSnapshot, SubmitJobInput } from "../service.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import {
  type ImageJobClientState,
  initialClientState,
  type JobEntry,
  mergeJob,
  mergePosition,
  type TargetState,
} from "./client-state.js";

/** Options of {@link ImageJobClient}. */
export interface ImageJobClientOptions {
  /** The gateway's WebSocket URL, or a function giving it per attempt. */
  readonly url: string | (() => string);
  /** The WebSocket constructor. @default globalThis.WebSocket */
  readonly WebSocket?: WebSocketConstructor;
  /** A token sent in `authenticate`, when the server does not use cookies. */
  readonly token?: () => string | undefined | Promise<string | undefined>;
  /** Reconnect delays. */
  readonly backoff?: BackoffOptions;
  /** Random numbers in [0, 1), for jitter. @default Math.random */
  readonly random?: () => number;
  /** Whether to connect at once. @default true */
  readonly autoConnect?: boolean;
  /** Logger in pino's shape. @default silent */
  readonly logger?: Logger;
}

interface Pending {
  readonly id: string;
  readonly frame: Record<string, unknown>;
  readonly resend: boolean;
  sent: boolean;
  readonly resolve: (snapshot: JobSnapshot) => void;
  readonly reject: (error: ImageJobError) => void;
}

const EMPTY: readonly JobEntry[] = [];

/**
 * The framework-free, browser-safe client store: one socket that
 * authenticates, follows jobs and conversations, reconnects with backoff
 * and jitter, resumes from its cursors, and keeps the last snapshot while
 * offline. `getSnapshot`/`subscribe` fit React's `useSyncExternalStore`.
 */
export class ImageJobClient {
  readonly #options: ImageJobClientOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<() => void>();
  readonly #watches = new Map<
    string,
    { target: SubscriptionTarget; count: number }
  >();
  readonly #cursors = new Map<string, string>();
  readonly #pending = new Map<string, Pending>();
  readonly #subscribing = new Map<string, string>();
  readonly #conversations = new Map<
    string,
    { jobs: ImageJobClientState["jobs"]; value: readonly JobEntry[] }
  >();
  #state: ImageJobClientState = initialClientState;
  #socket: WebSocketLike | null = null;
  #ready = false;
  #attempt = 0;
  #everOpen = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #heartbeatMs = 0;
  #nextId = 0;

  constructor(options: ImageJobClientOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    if (options.autoConnect ?? true) this.connect();
  }

  /** The current state; the same object until something changes. */
  getSnapshot = (): ImageJobClientState => this.#state;

  /** Calls `listener` after every change. Returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** One job's entry, or undefined before it is known. */
  getJob(jobId: string): JobEntry | undefined {
    return this.#state.jobs[jobId];
  }

  /** A target's load state; undefined when never followed. */
  getTarget(target: SubscriptionTarget): TargetState | undefined {
    return this.#state.targets[keyOf(target)];
  }

  /** A conversation's jobs in submit order; the same array until one changes. */
  getConversationJobs(conversationId: string): readonly JobEntry[] {
    const { jobs } = this.#state;
    const cached = this.#conversations.get(conversationId);
    if (cached?.jobs === jobs) return cached.value;

    const found = Object.values(jobs)
      .filter((entry) => entry.job.conversationId === conversationId)
      .sort(
        (a, b) =>
          a.job.queuedAt - b.job.queuedAt || a.job.ticket - b.job.ticket,
      );
    const previous = cached?.value ?? EMPTY;
    const same =
      found.length === previous.length &&
      found.every((entry, index) => entry === previous[index]);
    const value = same ? previous : found;
    this.#conversations.set(conversationId, { jobs, value });
    return value;
  }

  /** The cursor held per queue (opaque strings), for resuming. */
  get cursors(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.#cursors);
  }

  /** Follows one job until the returned function is called. */
  watchJob(jobId: string): () => void {
    return this.#watch({ kind: "job", jobId });
  }

  /** Follows every job of a conversation until the returned function is called. */
  watchConversation(conversationId: string): () => void {
    return this.#watch({ kind: "conversation", conversationId });
  }

  /**
   * Submits a job. Without an idempotency key one is made, so a submit
   * resent after a reconnect makes one job.
   */
  submit(input: SubmitJobInput): Promise<JobSnapshot> {
    const idempotencyKey = input.idempotencyKey ?? newKey();
    return this.#request(
      "submit",
      { input: { ...input, idempotencyKey } },
      true,
    );
  }

  /** Cancels a queued or running job (only that job). */
  cancel(jobId: string): Promise<JobSnapshot> {
    return this.#request("cancel", { jobId }, true);
  }

  /**
   * Retries a failed or cancelled job as a new job. Not resent after a lost
   * connection (it is not idempotent): it then fails and may be retried.
   */
  retry(jobId: string): Promise<JobSnapshot> {
    return this.#request("retry", { jobId }, false);
  }

  /** Opens the socket (after `close`, or with `autoConnect: false`). */
  connect(): void {
    this.#stopped = false;
    if (this.#socket || this.#timer) return;
    this.#open();
  }

  /** Closes the socket and stops reconnecting; the last state stays. */
  close(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#lost(1000, null);
    socket?.close(1000, "client closed");
  }

  #watch(target: SubscriptionTarget): () => void {
    const key = keyOf(target);
    const watch = this.#watches.get(key);
    if (watch) {
      watch.count += 1;
    } else {
      this.#watches.set(key, { target, count: 1 });
      if (!this.#state.targets[key]) {
        this.#set({
          targets: {
            ...this.#state.targets,
            [key]: { status: "pending", error: null },
          },
        });
      }
      if (this.#ready) this.#subscribeTarget(target);
    }

    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.#watches.get(key);
      if (!current) return;
      current.count -= 1;
      if (current.count > 0) return;
      this.#watches.delete(key);
      if (this.#ready)
        this.#send({ type: "unsubscribe", id: this.#id(), target });
    };
  }

  #request(
    type: "submit" | "cancel" | "retry",
    body: Record<string, unknown>,
    resend: boolean,
  ): Promise<JobSnapshot> {
    return new Promise((resolve, reject) => {
      const id = this.#id();
      const pending: Pending = {
        id,
        frame: { type, id, ...body },
        resend,
        sent: false,
        resolve,
        reject,
      };
      this.#pending.set(id, pending);
      if (this.#ready) this.#flush(pending);
    });
  }

  #flush(pending: Pending): void {
    pending.sent = true;
    this.#send(pending.frame);
  }

  #open(): void {
    const Socket =
      this.#options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Socket)
      throw new Error("no WebSocket constructor: pass one in options");
    const { url } = this.#options;
    this.#set({ connection: this.#everOpen ? "reconnecting" : "connecting" });

    const socket = new Socket(typeof url === "function" ? url() : url);
    this.#socket = socket;
    socket.onopen = () => void this.#authenticate(socket);
    socket.onmessage = (event) => {
      if (this.#socket === socket && typeof event.data === "string") {
        this.#receive(event.data);
      }
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#lost(event.code, null);
    };
    socket.onerror = () => {};
  }

  async #authenticate(socket: WebSocketLike): Promise<void> {
    let token: string | undefined;
    try {
      token = await this.#options.token?.();
    } catch (error) {
      this.#logger.warn({ err: error }, "token function failed");
    }
    if (this.#socket !== socket) return;
    socket.send(
      JSON.stringify({
        type: "authenticate",
        version: PROTOCOL_VERSION,
        ...(token === undefined ? {} : { token }),
      }),
    );
  }

  #receive(text: string): void {
    const message = parseServerMessage(text);
    this.#feedWatchdog();
    if (!message) {
      this.#logger.debug({ frame: text.slice(0, 200) }, "skipped server frame");
      return;
    }
    this.#handle(message);
  }

  #handle(message: ServerMessage): void {
    const { jobs } = this.#state;
    switch (message.type) {
      case "ready":
        this.#ready = true;
        this.#everOpen = true;
        this.#attempt = 0;
        this.#heartbeatMs = message.pingIntervalMs;
        this.#feedWatchdog();
        this.#set({ connection: "open", connectionError: null });
        for (const { target } of this.#watches.values())
          this.#subscribeTarget(target);
        for (const pending of this.#pending.values()) {
          if (!pending.sent) this.#flush(pending);
        }
        return;
      case "snapshot": {
        if (message.id !== null) this.#subscribing.delete(message.id);
        for (const [queue, cursor] of Object.entries(message.cursors)) {
          this.#cursors.set(queue, cursor);
        }
        let next = jobs;
        for (const snapshot of message.jobs) next = put(next, snapshot);
        const key = keyOf(message.target);
        this.#set({
          jobs: next,
          targets: {
            ...this.#state.targets,
            [key]: { status: "ready", error: null },
          },
        });
        return;
      }
      case "job":
        this.#cursors.set(message.queue, message.cursor);
        this.#set({
          jobs: put(jobs, {
            job: message.job,
            position: message.position,
            etaMs: jobs[message.job.id]?.etaMs ?? null,
          }),
        });
        return;
      case "position": {
        const held = jobs[message.jobId];
        if (!held) return;
        const {
          type: _type,
          jobId: _jobId,
          queue: _queue,
          etaMs,
          ...position
        } = message;
        const merged = mergePosition(held, position, etaMs);
        if (merged !== held)
          this.#set({ jobs: { ...jobs, [message.jobId]: merged } });
        return;
      }
      case "cursor":
        // Events this client does not follow went by; resume after them.
        this.#cursors.set(message.queue, message.cursor);
        return;
      case "service":
        this.#cursors.set(message.queue, message.cursor);
        this.#set({
          services: {
            ...this.#state.services,
            [message.queue]: message.status,
          },
        });
        return;
      case "result": {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        this.#set({ jobs: put(jobs, message.snapshot) });
        pending?.resolve(message.snapshot);
        return;
      }
      case "error":
        this.#failed(message.id, readPublicError(message.error));
        return;
      case "ping":
        this.#send({ type: "pong" });
        return;
      default:
        return;
    }
  }

  #failed(id: string | null, error: PublicError): void {
    const pending = id === null ? undefined : this.#pending.get(id);
    if (pending) {
      this.#pending.delete(pending.id);
      pending.reject(toError(error));
      return;
    }
    const key = id === null ? undefined : this.#subscribing.get(id);
    if (key !== undefined) {
      this.#subscribing.delete(id!);
      const targets = {
        ...this.#state.targets,
        [key]: { status: "error" as const, error },
      };
      // The server no longer knows it (purged, or lost with an in-memory
      // store): what is held about it is stale, not merely offline.
      const jobs =
        error.code === "NOT_FOUND"
          ? withoutTarget(this.#state.jobs, key)
          : this.#state.jobs;
      this.#set({ targets, jobs });
      return;
    }
    this.#set({ connectionError: error });
  }

  #subscribeTarget(target: SubscriptionTarget): void {
    const cursors = this.cursors;
    const id = this.#id();
    this.#subscribing.set(id, keyOf(target));
    this.#send({
      type: "subscribe",
      id,
      target,
      ...(Object.keys(cursors).length > 0 ? { cursors } : {}),
    });
  }

  #lost(code: number, error: PublicError | null): void {
    const socket = this.#socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    }
    this.#socket = null;
    this.#ready = false;
    this.#subscribing.clear();
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = null;

    for (const pending of [...this.#pending.values()]) {
      if (pending.sent && !pending.resend) {
        this.#pending.delete(pending.id);
        pending.reject(
          new ImageJobError("INTERNAL", {
            userMessage:
              "The connection was lost before the answer came. Please try again.",
            detail: `connection closed with ${code}`,
          }),
        );
      } else {
        pending.sent = false;
      }
    }

    const refused =
      code === CLOSE_CODES.unauthenticated ||
      code === CLOSE_CODES.protocolError;
    if (this.#stopped || refused) {
      this.#set({
        connection: "offline",
        connectionError: refused
          ? (error ?? new ImageJobError("UNAUTHENTICATED").toPublic())
          : this.#state.connectionError,
      });
      return;
    }
    const slow = code === CLOSE_CODES.slowConsumer;
    this.#set({
      connection: "reconnecting",
      connectionError: slow
        ? new ImageJobError("SLOW_CONSUMER").toPublic()
        : this.#state.connectionError,
    });
    const delay = backoffDelay(
      this.#attempt,
      this.#options.backoff,
      this.#options.random,
    );
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.#open();
    }, delay);
  }

  #feedWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = null;
    if (this.#heartbeatMs <= 0 || !this.#socket) return;
    const socket = this.#socket;
    // Two missed pings: the socket is half-open; drop it and reconnect.
    this.#watchdog = setTimeout(
      () => {
        if (this.#socket !== socket) return;
        this.#lost(CLOSE_CODES.pingTimeout, null);
        socket.close(CLOSE_CODES.pingTimeout, "ping timeout");
      },
      this.#heartbeatMs * 2 + 1000,
    );
  }

  #send(frame: Record<string, unknown>): void {
    const socket = this.#socket;
    if (socket?.readyState !== 1) return;
    socket.send(JSON.stringify(frame));
  }

  #id(): string {
    this.#nextId += 1;
    return `r${this.#nextId.toString(36)}`;
  }

  #set(patch: Partial<ImageJobClientState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of [...this.#listeners]) listener();
  }
}

function put(
  jobs: ImageJobClientState["jobs"],
  snapshot: JobSnapshot,
): ImageJobClientState["jobs"] {
  const held = jobs[snapshot.job.id];
  const merged = mergeJob(held, snapshot);
  return merged === held ? jobs : { ...jobs, [snapshot.job.id]: merged };
}

function keyOf(target: SubscriptionTarget): string {
  return target.kind === "job"
    ? `job:${target.jobId}`
    : `conversation:${target.conversationId}`;
}

function toError(error: PublicError): ImageJobError {
  return new ImageJobError(error.code, {
    userMessage: error.message,
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    fields: error.fields,
  });
}

function newKey(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } })
    .crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The held jobs less those a refused target covered. */
function withoutTarget(
  jobs: ImageJobClientState["jobs"],
  key: string,
): ImageJobClientState["jobs"] {
  const [kind, ...rest] = key.split(":");
  const id = rest.join(":");
  const kept = Object.entries(jobs).filter(([jobId, entry]) =>
    kind === "job" ? jobId !== id : entry.job.conversationId !== id,
  );
  return kept.length === Object.keys(jobs).length
    ? jobs
    : Object.fromEntries(kept);
}
