import type { ClientEvent } from "../events.js";

/** One entry of a queue's event log. */
export interface LogEntry {
  /** Opaque, ordered within its queue; pass it back to read what follows. */
  readonly cursor: string;
  /** The event. */
  readonly event: ClientEvent;
}

/** What a read after a cursor found. */
export interface LogRead {
  /** Entries after the cursor, in order. */
  readonly entries: readonly LogEntry[];
  /**
   * True when the cursor is older than what the log keeps (or unknown):
   * events were lost, and the reader must take a fresh snapshot.
   */
  readonly resync: boolean;
  /** The cursor to read from next (the last entry's, or the one given). */
  readonly cursor: string | null;
}

/**
 * One append-only log of client events per queue, with opaque cursors.
 * Appends are idempotent by `dedupeKey`, so a relay that retries publishes
 * each change once.
 */
export interface EventLog {
  /** Appends an event unless `dedupeKey` was appended before. */
  append(input: {
    readonly queue: string;
    readonly event: ClientEvent;
    readonly dedupeKey: string;
    readonly now: number;
  }): Promise<{ readonly cursor: string; readonly duplicate: boolean }>;

  /** Entries after `cursor` (null: from the oldest kept), at most `limit`. */
  read(queue: string, cursor: string | null, limit: number): Promise<LogRead>;

  /** The cursor of the newest entry, or null when empty. */
  head(queue: string): Promise<string | null>;

  /**
   * Calls `listener` with the queue's name after new entries are appended,
   * from any process the log reaches. Returns the unsubscribe function.
   */
  subscribe(listener: (queue: string) => void): () => void;

  /** Drops entries appended before `before` (epoch ms). Returns how many. */
  trim(queue: string, before: number): Promise<number>;
}
