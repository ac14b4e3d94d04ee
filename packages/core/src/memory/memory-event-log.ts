import { EventEmitter } from "eventemitter3";
import type { ClientEvent } from "../events.js";
import { newId } from "../ids.js";
import type { EventLog, LogEntry, LogRead } from "../ports/event-log.js";

/** Options of {@link MemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** Most entries kept per queue; older ones are dropped. @default 10000 */
  readonly maxEntries?: number;
}

interface Stored extends LogEntry {
  readonly seq: number;
  readonly at: number;
  readonly dedupeKey: string;
}

interface QueueLog {
  entries: Stored[];
  seq: number;
  keys: Map<string, string>;
}

/**
 * The event log in one process's memory. Cursors name this instance, so a
 * cursor from before a restart asks for a resync instead of reading a gap.
 */
export class MemoryEventLog implements EventLog {
  readonly #epoch = newId().slice(0, 8);
  readonly #logs = new Map<string, QueueLog>();
  readonly #emitter = new EventEmitter<{ append: [queue: string] }>();
  readonly #maxEntries: number;

  constructor(options: MemoryEventLogOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  async append(input: {
    queue: string;
    event: ClientEvent;
    dedupeKey: string;
    now: number;
  }): Promise<{ cursor: string; duplicate: boolean }> {
    const log = this.#log(input.queue);
    const known = log.keys.get(input.dedupeKey);
    if (known !== undefined) return { cursor: known, duplicate: true };

    log.seq += 1;
    const cursor = `${this.#epoch}-${log.seq.toString(36)}`;
    log.entries.push({
      seq: log.seq,
      cursor,
      event: structuredClone(input.event),
      at: input.now,
      dedupeKey: input.dedupeKey,
    });
    log.keys.set(input.dedupeKey, cursor);
    while (log.entries.length > this.#maxEntries) this.#drop(log);

    queueMicrotask(() => this.#emitter.emit("append", input.queue));
    return { cursor, duplicate: false };
  }

  async read(
    queue: string,
    cursor: string | null,
    limit: number,
  ): Promise<LogRead> {
    const log = this.#log(queue);
    const head = log.entries.at(-1)?.cursor ?? cursor;
    let after = 0;
    if (cursor !== null) {
      const seq = this.#parse(cursor);
      const oldest = log.entries[0]?.seq ?? log.seq + 1;
      if (seq === null || seq > log.seq || seq < oldest - 1) {
        return { entries: [], resync: true, cursor: head ?? null };
      }
      after = seq;
    }

    const start = log.entries.findIndex((entry) => entry.seq > after);
    const entries =
      start === -1
        ? []
        : log.entries.slice(start, start + limit).map((entry) => ({
            cursor: entry.cursor,
            event: structuredClone(entry.event),
          }));
    return {
      entries,
      resync: false,
      cursor: entries.at(-1)?.cursor ?? cursor,
    };
  }

  async head(queue: string): Promise<string | null> {
    return this.#log(queue).entries.at(-1)?.cursor ?? null;
  }

  subscribe(listener: (queue: string) => void): () => void {
    this.#emitter.on("append", listener);
    return () => this.#emitter.off("append", listener);
  }

  async trim(queue: string, before: number): Promise<number> {
    const log = this.#log(queue);
    let dropped = 0;
    while ((log.entries[0]?.at ?? Number.POSITIVE_INFINITY) < before) {
      this.#drop(log);
      dropped += 1;
    }
    return dropped;
  }

  #drop(log: QueueLog): void {
    const entry = log.entries.shift();
    if (entry) log.keys.delete(entry.dedupeKey);
  }

  #parse(cursor: string): number | null {
    const [epoch, seq] = cursor.split("-");
    if (epoch !== this.#epoch || !seq) return null;
    const value = Number.parseInt(seq, 36);
    return Number.isSafeInteger(value) ? value : null;
  }

  #log(queue: string): QueueLog {
    let log = this.#logs.get(queue);
    if (!log) {
      log = { entries: [], seq: 0, keys: new Map() };
      this.#logs.set(queue, log);
    }
    return log;
  }
}
