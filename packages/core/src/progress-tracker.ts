import type { JobProgress } from "./job.js";
import type { GpuProgress } from "./ports/gpu-backend.js";

/** What one GPU report changed. */
export interface ProgressUpdate {
  /** The progress as the user should see it. */
  readonly progress: JobProgress;
  /** Whether the job moved on (new phase, step or share). */
  readonly advanced: boolean;
  /** Whether the job just started loading a model. */
  readonly startedLoading: boolean;
}

/**
 * Turns a backend's raw reports into progress a user can trust: the share
 * never moves backwards within an attempt and stays below 1 until success;
 * the ETA comes from the server or from the sampling rate so far.
 */
export class ProgressTracker {
  #last: JobProgress | null = null;
  #samplingSince: number | null = null;

  /** The last progress, or null before the first report. */
  get current(): JobProgress | null {
    return this.#last;
  }

  /** Reads one report at time `now`. */
  update(report: GpuProgress, now: number): ProgressUpdate {
    const last = this.#last;
    const raw = Number.isFinite(report.fraction) ? report.fraction : 0;
    const fraction = Math.max(
      last?.fraction ?? 0,
      Math.min(Math.max(raw, 0), 0.99),
    );
    const step = report.step ?? last?.step ?? null;
    const steps = report.steps ?? last?.steps ?? null;

    if (report.phase === "sampling" && this.#samplingSince === null) {
      this.#samplingSince = now;
    }
    let etaMs = report.etaMs ?? null;
    if (etaMs === null && this.#samplingSince !== null && fraction > 0) {
      const elapsed = now - this.#samplingSince;
      etaMs = Math.round((elapsed / fraction) * (1 - fraction));
    }

    const progress: JobProgress = {
      phase: report.phase,
      fraction,
      step: step === null ? null : Math.max(step, last?.step ?? 0),
      steps,
      etaMs,
    };
    const advanced =
      last === null ||
      last.phase !== progress.phase ||
      (progress.step ?? 0) > (last.step ?? 0) ||
      progress.fraction > last.fraction;
    const startedLoading =
      progress.phase === "loading" && last?.phase !== "loading";
    this.#last = progress;
    return { progress, advanced, startedLoading };
  }
}
