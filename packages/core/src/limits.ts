/** Time limits of jobs, in milliseconds. See DESIGN.md for their meaning. */
export interface TimeLimits {
  /** A running job's lease; renewed while it runs. @default 30000 */
  readonly leaseMs?: number;
  /** How often the lease is renewed. @default 10000 */
  readonly renewMs?: number;
  /** Longest a running job may go without progress. @default 300000 */
  readonly stallTimeoutMs?: number;
  /** Longest the GPU may report loading a model. @default 600000 */
  readonly loadAllowanceMs?: number;
  /** Longest one attempt may run, from claim. @default 1800000 */
  readonly runTimeoutMs?: number;
  /** Longest a job may wait in the queue. @default 3600000 */
  readonly maxQueueWaitMs?: number;
}

/** The defaults of {@link TimeLimits}. */
export const DEFAULT_TIME_LIMITS: Required<TimeLimits> = {
  leaseMs: 30_000,
  renewMs: 10_000,
  stallTimeoutMs: 5 * 60_000,
  loadAllowanceMs: 10 * 60_000,
  runTimeoutMs: 30 * 60_000,
  maxQueueWaitMs: 60 * 60_000,
};

/** Fills unset limits with the defaults. */
export function resolveTimeLimits(
  limits: TimeLimits = {},
): Required<TimeLimits> {
  return { ...DEFAULT_TIME_LIMITS, ...limits };
}
