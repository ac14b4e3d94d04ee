/** How a client waits between reconnect attempts. */
export interface BackoffOptions {
  /** The first delay's cap, in ms. @default 500 */
  readonly initialDelayMs?: number;
  /** The largest delay, in ms. @default 15000 */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt. @default 2 */
  readonly factor?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): "full jitter",
 * a random share of an exponentially growing cap, so that many clients cut
 * at once do not come back at once.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 15_000;
  const cap = Math.min(max, initial * (options.factor ?? 2) ** attempt);
  return Math.round(random() * cap);
}
