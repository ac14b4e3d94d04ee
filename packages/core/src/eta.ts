import type { QueueStats } from "./ports/job-store.js";

/** Finished jobs needed before an ETA is given. */
export const ETA_MIN_SAMPLES = 3;

/**
 * Estimated wait in ms before a waiting job starts: recent mean run time ×
 * jobs ahead of it (the running ones included) ÷ backends whose breaker is
 * closed. Null until {@link ETA_MIN_SAMPLES} jobs have finished or while no
 * backend accepts work.
 */
export function estimateWaitMs(
  stats: QueueStats,
  position: number,
): number | null {
  const runs = stats.recentRunMs;
  if (runs.length < ETA_MIN_SAMPLES) return null;

  const closed =
    stats.backends.length === 0
      ? 1
      : stats.backends.filter((b) => b.breaker === "closed").length;
  if (closed === 0) return null;

  const mean = runs.reduce((sum, ms) => sum + ms, 0) / runs.length;
  const ahead = position - 1 + stats.running;
  return Math.round((mean * ahead) / closed);
}

/** Mean of the recent run times, or null before {@link ETA_MIN_SAMPLES}. */
export function meanRunMs(stats: QueueStats): number | null {
  const runs = stats.recentRunMs;
  if (runs.length < ETA_MIN_SAMPLES) return null;
  return runs.reduce((sum, ms) => sum + ms, 0) / runs.length;
}
