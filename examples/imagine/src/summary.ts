/** One job's line in summary.json. */
export interface JobSummary {
  prompt: string;
  user: string;
  ticket: number;
  /** Every position the user saw, in order. */
  positions: number[];
  waitMs: number | null;
  runMs: number | null;
  status: string;
  errorCode: string | null;
  images: string[];
}

/** The `p`-th percentile (0–100) of `values`, nearest rank; null if empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Totals of a run. */
export function totals(jobs: JobSummary[], wallMs: number, gpus: number) {
  const failedByCode: Record<string, number> = {};
  for (const job of jobs) {
    if (job.status !== "succeeded") {
      const code = job.errorCode ?? job.status;
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
    }
  }
  const waits = jobs.flatMap((j) => (j.waitMs === null ? [] : [j.waitMs]));
  const runs = jobs.flatMap((j) => (j.runMs === null ? [] : [j.runMs]));
  const busyMs = runs.reduce((sum, ms) => sum + ms, 0);
  return {
    jobs: jobs.length,
    succeeded: jobs.filter((j) => j.status === "succeeded").length,
    failed: jobs.length - jobs.filter((j) => j.status === "succeeded").length,
    failedByCode,
    waitMs: { p50: percentile(waits, 50), p95: percentile(waits, 95) },
    runMs: { p50: percentile(runs, 50), p95: percentile(runs, 95) },
    wallMs,
    gpuBusyShare: wallMs > 0 ? busyMs / (wallMs * gpus) : 0,
    positionsOnlyFall: jobs.every((j) =>
      j.positions.every((p, i) => i === 0 || p <= j.positions[i - 1]!),
    ),
  };
}

/** A plain-text table of the totals. */
export function table(t: ReturnType<typeof totals>): string {
  const ms = (v: number | null) =>
    v === null ? "-" : `${(v / 1000).toFixed(2)} s`;
  const failed =
    Object.entries(t.failedByCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(", ") || "none";
  const rows: [string, string][] = [
    ["jobs", String(t.jobs)],
    ["succeeded", String(t.succeeded)],
    ["failed", `${t.failed} (${failed})`],
    ["wait p50 / p95", `${ms(t.waitMs.p50)} / ${ms(t.waitMs.p95)}`],
    ["run p50 / p95", `${ms(t.runMs.p50)} / ${ms(t.runMs.p95)}`],
    ["GPU busy share", `${(t.gpuBusyShare * 100).toFixed(1)} %`],
    ["wall time", ms(t.wallMs)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}
