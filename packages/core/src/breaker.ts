import type { Clock } from "./ports/clock.js";
import type { BreakerState } from "./ports/job-store.js";

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive server faults that open it. @default 5 */
  readonly failureThreshold?: number;
  /** How long it stays open before one half-open probe, in ms. @default 60000 */
  readonly openMs?: number;
  /**
   * Pause before the next claim after a server fault, in ms; it doubles
   * with each consecutive fault, up to `openMs`. @default 1000
   */
  readonly retryDelayMs?: number;
}

/**
 * The circuit breaker between a worker and its backend. Only server faults
 * count; a success resets the count. Open, it refuses work until `openMs`
 * has passed; then one probe decides: success closes it, failure opens it
 * again.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #retryDelayMs: number;
  readonly #clock: Clock;
  readonly #onChange: (from: BreakerState, to: BreakerState) => void;
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;

  constructor(
    clock: Clock,
    options: CircuitBreakerOptions = {},
    onChange: (from: BreakerState, to: BreakerState) => void = () => {},
  ) {
    this.#clock = clock;
    this.#threshold = options.failureThreshold ?? 5;
    this.#openMs = options.openMs ?? 60_000;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#onChange = onChange;
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /** Consecutive server faults counted so far. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * The pause before the next claim after the faults counted so far: the
   * base delay doubled per consecutive fault, at most `openMs`; 0 without
   * faults.
   */
  get retryDelayMs(): number {
    if (this.#failures === 0) return 0;
    const doubled = this.#retryDelayMs * 2 ** (this.#failures - 1);
    return Math.min(doubled, this.#openMs);
  }

  /** Milliseconds until an open breaker may probe; 0 when it may now. */
  get msUntilProbe(): number {
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openedAt + this.#openMs - this.#clock.now());
  }

  /**
   * Runs the half-open probe when due: `probe` resolving closes the breaker,
   * throwing opens it again. Returns whether work may go through.
   */
  async allow(probe: () => Promise<void>): Promise<boolean> {
    if (this.#state === "closed") return true;
    if (this.msUntilProbe > 0) return false;

    this.#set("half-open");
    try {
      await probe();
    } catch {
      this.#open();
      return false;
    }
    this.#failures = 0;
    this.#set("closed");
    return true;
  }

  /** Records a call that reached a healthy server. */
  recordSuccess(): void {
    this.#failures = 0;
  }

  /** Records a server fault; the threshold-th in a row opens the breaker. */
  recordFault(): void {
    this.#failures += 1;
    if (this.#state === "closed" && this.#failures >= this.#threshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#set("open");
  }

  #set(state: BreakerState): void {
    const from = this.#state;
    if (from === state) return;
    this.#state = state;
    this.#onChange(from, state);
  }
}
