import type { GpuProgress } from "@imagejobs/core";
import type { ForgeProgress, ForgeTaskProgress } from "./forge-schemas.js";

/** The highest share reported before the result is in. */
const BEFORE_DONE = 0.99;

/**
 * Turns Forge's raw progress into what a user should see for one task
 * (S23, S24): the 0.01 floor removed, `job_count -1` reported as loading,
 * the 0 Forge shows after a job and stale state from an earlier job
 * ignored, never backwards, and never 100 % (only a result says done).
 */
export class ProgressTracker {
  private fraction = 0;
  private ours = false;
  private last: GpuProgress = { phase: "waiting", fraction: 0 };

  /**
   * @param baselineTimestamp `state.job_timestamp` seen before the task was
   * sent; a different one means a new job began (used without
   * `/internal/progress`, when this client is the server's only user).
   */
  constructor(private readonly baselineTimestamp: string | null) {}

  /** The user-facing progress for one poll. */
  update(global: ForgeProgress, task: ForgeTaskProgress | null): GpuProgress {
    const { state } = global;
    if (task) {
      if (task.active && state.job_count !== 0) this.ours = true;
      else if (!task.completed) return this.report({ phase: "waiting" });
      else return this.last;
    } else if (state.job_count !== 0) {
      if (state.job_timestamp !== this.baselineTimestamp) this.ours = true;
      else if (!this.ours) return this.report({ phase: "waiting" });
    } else {
      // Idle: finished, or not started; the stale numbers mean nothing.
      return this.ours ? this.last : this.report({ phase: "waiting" });
    }

    if (state.job_count < 0) return this.report({ phase: "loading" });
    const steps = state.sampling_steps;
    const within = steps > 0 ? Math.min(state.sampling_step / steps, 1) : 0;
    const share = (state.job_no + within) / state.job_count;
    const eta = global.eta_relative;
    return this.report({
      phase: "sampling",
      share,
      step: state.sampling_step,
      steps,
      ...(share > 0 && eta > 0 ? { etaMs: Math.round(eta * 1000) } : {}),
    });
  }

  private report(next: {
    phase: GpuProgress["phase"];
    share?: number;
    step?: number;
    steps?: number;
    etaMs?: number;
  }): GpuProgress {
    const share = Math.min(Math.max(next.share ?? 0, 0), BEFORE_DONE);
    this.fraction = Math.max(this.fraction, share);
    this.last = {
      phase: next.phase,
      fraction: this.fraction,
      ...(next.step === undefined ? {} : { step: next.step }),
      ...(next.steps === undefined ? {} : { steps: next.steps }),
      ...(next.etaMs === undefined ? {} : { etaMs: next.etaMs }),
    };
    return this.last;
  }
}
