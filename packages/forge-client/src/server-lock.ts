import { AsyncLocalStorage } from "node:async_hooks";
import { FifoLock } from "./fifo-lock.js";

const held = new AsyncLocalStorage<Set<ServerLock>>();
const locks = new Map<string, ServerLock>();

/**
 * One mutex per Forge server, shared by every client of the same base URL
 * in this process. Generations, option writes and model switches run under
 * it; a caller already inside it re-enters without waiting.
 */
export class ServerLock {
  private readonly lock = new FifoLock();

  /** The lock of the server at `baseUrl`. */
  static for(baseUrl: string): ServerLock {
    const key = baseUrl.replace(/\/+$/, "");
    let lock = locks.get(key);
    if (!lock) {
      lock = new ServerLock();
      locks.set(key, lock);
    }
    return lock;
  }

  /** Whether someone holds the lock. */
  get locked(): boolean {
    return this.lock.locked;
  }

  /** Runs `work` holding the lock, in arrival order. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const mine = held.getStore();
    if (mine?.has(this)) return work();
    const release = await this.lock.acquire(signal);
    try {
      return await held.run(new Set([...(mine ?? []), this]), work);
    } finally {
      release();
    }
  }
}
