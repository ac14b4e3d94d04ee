import type { Clock, TimerHandle } from "../ports/clock.js";

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Lets every queued promise callback run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * A clock that moves only when told to. Timers fire in time order, and the
 * promise callbacks they start run before the next timer fires.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  /** Starts at `start` (epoch ms). @default 2026-01-01T00:00:00Z */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    const at = this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0);
    this.#timers.set(id, { id, at, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const due = this.#nextDue(target);
      if (!due) break;
      this.#timers.delete(due.id);
      this.#now = due.at;
      due.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /**
   * Advances in steps of `stepMs` until `predicate` holds; throws after
   * `maxMs` of fake time.
   */
  async until(
    predicate: () => boolean | Promise<boolean>,
    options: { stepMs?: number; maxMs?: number } = {},
  ): Promise<void> {
    const stepMs = options.stepMs ?? 100;
    const maxMs = options.maxMs ?? 60 * 60 * 1000;
    const start = this.#now;
    await settle();
    while (!(await predicate())) {
      if (this.#now - start >= maxMs) {
        throw new Error(`condition not met within ${maxMs} ms of fake time`);
      }
      await this.advance(stepMs);
    }
  }

  #nextDue(target: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.at > target) continue;
      if (
        !next ||
        timer.at < next.at ||
        (timer.at === next.at && timer.id < next.id)
      ) {
        next = timer;
      }
    }
    return next;
  }
}
