import type { PublicError } from "../errors.js";
import { ImageJobError } from "../errors.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { EventLog, LogRead } from "../ports/event-log.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import {
  type Authorize,
  type AuthUser,
  type ImageJobService,
  ownerOnly,
} from "../service.js";
import { ConnectionSession } from "./connection-session.js";
import type {
  GatewayConnection,
  GatewayTransport,
} from "./gateway-transport.js";
import { CLOSE_CODES } from "./protocol-version.js";
import type { PositionMessage } from "./server-message.js";

/** Options of {@link RealtimeGateway}. */
export interface RealtimeGatewayOptions {
  /** The service every request goes through (access, validation, quotas). */
  readonly service: ImageJobService;
  /** The event log clients follow (`imageJobs.context.events`). */
  readonly events: EventLog;
  /**
   * Who may read a job's events; pass the service's rule when it is not
   * the default. @default ownerOnly
   */
  readonly authorize?: Authorize;
  /**
   * Turns an `authenticate` token into a user, for hosts that do not
   * authenticate on upgrade. Unset: only the transport's `user` counts.
   */
  readonly authenticate?: (
    token: string,
  ) => AuthUser | null | Promise<AuthUser | null>;
  /** Largest text frame accepted, in UTF-8 bytes. @default 65536 */
  readonly maxFrameBytes?: number;
  /**
   * Most bytes one socket may hold unsent; past it the socket is closed
   * with SLOW_CONSUMER and resumes from its cursors. @default 1048576
   */
  readonly maxBufferedBytes?: number;
  /** Ping interval in ms; a socket silent for a whole interval is closed. 0 disables. @default 25000 */
  readonly pingIntervalMs?: number;
  /**
   * After this many entries of a queue went by without a message to a
   * socket (events it does not follow), the socket is told its newest
   * cursor, so a quiet client never holds a cursor older than the log
   * keeps; each ping tells it too. Keep it well below the log's retention.
   * @default 100
   */
  readonly cursorEveryEntries?: number;
  /** Entries read from the log per step. @default 500 */
  readonly readBatch?: number;
  /** Time, for pings. @default the system clock */
  readonly clock?: Clock;
  /** Logger in pino's shape. @default silent */
  readonly logger?: Logger;
}

/** Whatever receives position pushes for the jobs it shows. */
export interface PositionSink {
  /** Sends a waiting job's live position. */
  position(message: PositionMessage): void;
}

/** Settled options, as connections read them. */
export interface GatewaySettings {
  /** See {@link RealtimeGatewayOptions.maxFrameBytes}. */
  readonly maxFrameBytes: number;
  /** See {@link RealtimeGatewayOptions.maxBufferedBytes}. */
  readonly maxBufferedBytes: number;
  /** See {@link RealtimeGatewayOptions.pingIntervalMs}. */
  readonly pingIntervalMs: number;
  /** See {@link RealtimeGatewayOptions.readBatch}. */
  readonly readBatch: number;
  /** See {@link RealtimeGatewayOptions.cursorEveryEntries}. */
  readonly cursorEveryEntries: number;
}

/**
 * Serves the realtime protocol over any socket: one {@link GatewayConnection}
 * per socket, given a send function. Reads each queue's event log once per
 * cursor however many sockets wait on it, computes waiting positions once per
 * queue change, and never lets one slow socket delay the others.
 */
export class RealtimeGateway {
  /** The service requests go through. */
  readonly service: ImageJobService;
  /** The event log followed. */
  readonly events: EventLog;
  /** The read access rule. */
  readonly authorize: Authorize;
  /** Token authentication, if any. */
  readonly authenticate:
    | ((token: string) => AuthUser | null | Promise<AuthUser | null>)
    | undefined;
  /** Settled limits. */
  readonly settings: GatewaySettings;
  /** Time. */
  readonly clock: Clock;
  /** Logger. */
  readonly logger: Logger;
  readonly #connections = new Set<ConnectionSession>();
  readonly #watchers = new Map<string, Set<PositionSink>>();
  readonly #reads = new Map<string, Promise<LogRead>>();
  readonly #positions = new Map<string, { running: boolean; again: boolean }>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(options: RealtimeGatewayOptions) {
    this.service = options.service;
    this.events = options.events;
    this.authorize = options.authorize ?? ownerOnly;
    this.authenticate = options.authenticate;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.settings = {
      maxFrameBytes: options.maxFrameBytes ?? 65_536,
      maxBufferedBytes: options.maxBufferedBytes ?? 1_048_576,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      readBatch: options.readBatch ?? 500,
      cursorEveryEntries: Math.max(1, options.cursorEveryEntries ?? 100),
    };
    this.#unsubscribe = this.events.subscribe((queue) => this.#changed(queue));
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /** Serves one socket. Call `receive` per text frame and `close` once it closes. */
  connect(transport: GatewayTransport): GatewayConnection {
    const connection = new ConnectionSession(this, transport, () => {
      this.#connections.delete(connection);
    });
    if (this.#closed) {
      transport.close(CLOSE_CODES.goingAway, "server shutting down");
    } else {
      this.#connections.add(connection);
    }
    return connection;
  }

  /** Closes every socket (code 1001) and stops following the log. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const connection of [...this.#connections]) {
      connection.shutdown(CLOSE_CODES.goingAway, "server shutting down");
    }
  }

  /**
   * Reads a queue's log after `cursor`. Sockets holding the same cursor
   * share one read, so 200 caught-up sockets cost one read per change.
   */
  read(queue: string, cursor: string | null): Promise<LogRead> {
    const key = `${queue}\u0000${cursor ?? ""}`;
    let read = this.#reads.get(key);
    if (!read) {
      read = this.events.read(queue, cursor, this.settings.readBatch);
      this.#reads.set(key, read);
      const forget = () => this.#reads.delete(key);
      read.then(forget, forget);
    }
    return read;
  }

  /** Registers that `connection` shows `jobId`, for position pushes. */
  watch(jobId: string, connection: PositionSink): void {
    let set = this.#watchers.get(jobId);
    if (!set) {
      set = new Set();
      this.#watchers.set(jobId, set);
    }
    set.add(connection);
  }

  /** Drops `connection` from the position pushes of `jobIds`. */
  unwatch(jobIds: Iterable<string>, connection: PositionSink): void {
    for (const jobId of jobIds) {
      const set = this.#watchers.get(jobId);
      set?.delete(connection);
      if (set?.size === 0) this.#watchers.delete(jobId);
    }
  }

  /** The user-safe form of anything thrown, logging what is unexpected. */
  publicError(error: unknown): PublicError {
    const known = ImageJobError.from(error);
    if (known.code === "INTERNAL") {
      this.logger.error({ err: error }, "realtime request failed");
    }
    return { ...known.toPublic(), message: this.service.userMessage(known) };
  }

  #changed(queue: string): void {
    for (const connection of this.#connections) connection.pump(queue);
    void this.#pushPositions(queue);
  }

  async #pushPositions(queue: string): Promise<void> {
    let state = this.#positions.get(queue);
    if (!state) {
      state = { running: false, again: false };
      this.#positions.set(queue, state);
    }
    if (state.running) {
      // Coalesce: one more computation after this one covers every change.
      state.again = true;
      return;
    }
    state.running = true;
    try {
      do {
        state.again = false;
        if (this.#watchers.size === 0) continue;
        const waiting = await this.service.waiting(queue);
        for (const entry of waiting) {
          const watchers = this.#watchers.get(entry.jobId);
          if (!watchers) continue;
          const message: PositionMessage = {
            type: "position",
            jobId: entry.jobId,
            queue,
            position: entry.position,
            queueSize: entry.queueSize,
            queueVersion: entry.queueVersion,
            etaMs: entry.etaMs,
          };
          for (const connection of watchers) connection.position(message);
        }
      } while (state.again && !this.#closed);
    } catch (error) {
      this.logger.error({ queue, err: error }, "could not compute positions");
    } finally {
      state.running = false;
    }
  }
}
