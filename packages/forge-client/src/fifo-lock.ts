/** Releases a {@link FifoLock} once; later calls do nothing. */
export type Release = () => void;

/**
 * A first-in, first-out async mutex: callers get the lock strictly in the
 * order they asked for it, as Forge's own queue lock does.
 */
export class FifoLock {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  /** Whether someone holds the lock now. */
  get locked(): boolean {
    return this.held;
  }

  /** How many callers wait for the lock. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once the lock is ours. Aborting the
   * signal while waiting rejects with its reason and leaves the line.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.releaser());
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.held = false;
    };
  }
}
