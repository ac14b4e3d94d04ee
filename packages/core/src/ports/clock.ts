/** A timer handle from a {@link Clock}. */
export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/**
 * Time, injectable so tests can drive it. Stores never read their own clock:
 * callers pass `now()` into every store call.
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
  /** Calls `callback` after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending timer must not keep a Node process alive on its own.
    (handle as { unref?: () => void }).unref?.();
    return handle as unknown as TimerHandle;
  },
  clearTimeout: (handle) =>
    clearTimeout(handle as unknown as Parameters<typeof clearTimeout>[0]),
};

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason when
 * aborted first.
 */
export function sleep(
  clock: Clock,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `task` every `ms` on `clock`, each run after the previous one ends,
 * until the returned function is called. A failing run goes to `onError`.
 */
export function repeat(
  clock: Clock,
  ms: number,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): () => void {
  let stopped = false;
  let timer: TimerHandle | null = null;
  const tick = () => {
    timer = clock.setTimeout(async () => {
      if (stopped) return;
      await task().catch(onError);
      if (!stopped) tick();
    }, ms);
  };
  tick();
  return () => {
    stopped = true;
    if (timer !== null) clock.clearTimeout(timer);
  };
}
