/** Forge's `shared.state` fields that `/sdapi/v1/progress` shows. */
export interface StateSnapshot {
  /** Skip flag. */
  skipped: boolean;
  /** Interrupt flag. */
  interrupted: boolean;
  /** Stop-generation flag. */
  stopping_generation: boolean;
  /** `scripts_txt2img`, `Batch k out of n`, or `""` when idle. */
  job: string;
  /** -1 while loading, n_iter while sampling, 0 when idle. */
  job_count: number;
  /** `YYYYmmddHHMMSS` of the last `begin()`. */
  job_timestamp: string;
  /** Current batch, from 0. */
  job_no: number;
  /** Current step. */
  sampling_step: number;
  /** Steps of the current (or last) sampling run. */
  sampling_steps: number;
}

/** Formats a date as Forge's `job_timestamp`. */
export function jobTimestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    String(date.getFullYear()) +
    pad(date.getMonth() + 1) +
    pad(date.getDate()) +
    pad(date.getHours()) +
    pad(date.getMinutes()) +
    pad(date.getSeconds())
  );
}

/** How many finished task ids `/internal/progress` remembers. */
const COMPLETED_KEPT = 16;

/**
 * The stand-in's copy of Forge's process-wide job state and task tables
 * (`modules/shared_state.py`, `modules/progress.py`).
 */
export class ForgeState {
  /** The fields `/progress` shows. */
  readonly state: StateSnapshot = {
    skipped: false,
    interrupted: false,
    stopping_generation: false,
    job: "",
    job_count: 0,
    job_timestamp: "0",
    job_no: 0,
    sampling_step: 0,
    sampling_steps: 0,
  };
  /** When the current job began, epoch ms. */
  startedAt = 0;
  /** Id of the task that holds the lock, or null. */
  currentTask: string | null = null;
  /** Waiting task ids with the time each was added. */
  readonly pending = new Map<string, number>();
  /** The last finished task ids, oldest first. */
  readonly completed: string[] = [];
  private lastTimestamp = "";

  /** `state.begin()`: a new job starts; `sampling_steps` is kept. */
  begin(job: string, now: number): void {
    let stamp = jobTimestamp(new Date(now));
    // Forge's stamp has one-second resolution; the stand-in keeps it unique
    // per job so that tests can tell jobs apart even within a second.
    if (stamp <= this.lastTimestamp) {
      stamp = String(BigInt(this.lastTimestamp) + 1n);
    }
    this.lastTimestamp = stamp;
    Object.assign(this.state, {
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      job,
      job_count: -1,
      job_timestamp: stamp,
      job_no: 0,
      sampling_step: 0,
    });
    this.startedAt = now;
  }

  /** `state.end()`: only `job` and `job_count` are reset. */
  end(): void {
    this.state.job = "";
    this.state.job_count = 0;
  }

  /** `add_task_to_queue`. */
  addTask(id: string, now: number): void {
    this.pending.set(id, now);
  }

  /** `start_task`. */
  startTask(id: string): void {
    this.currentTask = id;
    this.pending.delete(id);
  }

  /** `finish_task`, called on success only. */
  finishTask(id: string): void {
    this.completed.push(id);
    if (this.completed.length > COMPLETED_KEPT) this.completed.shift();
    if (this.currentTask === id) this.currentTask = null;
  }

  /** Whether a job runs now. */
  get busy(): boolean {
    return this.state.job_count !== 0;
  }

  /** The body of `GET /sdapi/v1/progress` (FORGE-API.md §6.1). */
  progressBody(now: number): Record<string, unknown> {
    const state = { ...this.state };
    if (state.job_count === 0) {
      return {
        progress: 0,
        eta_relative: 0,
        state,
        current_image: null,
        textinfo: null,
      };
    }
    let progress = 0.01;
    if (state.job_count > 0) progress += state.job_no / state.job_count;
    if (state.sampling_steps > 0 && state.job_count > 0) {
      progress +=
        (1 / state.job_count) * (state.sampling_step / state.sampling_steps);
    }
    const elapsed = (now - this.startedAt) / 1000;
    const eta = elapsed / progress - elapsed;
    return {
      progress: Math.min(progress, 1),
      eta_relative: eta,
      state,
      current_image: null,
      textinfo: null,
    };
  }

  /** The body of `POST /internal/progress` (FORGE-API.md §6.3). */
  taskProgressBody(id: string, now: number): Record<string, unknown> {
    const base = {
      live_preview: null,
      id_live_preview: -1,
    };
    const active = this.currentTask === id;
    const queued = this.pending.has(id);
    const completed = this.completed.includes(id);
    if (!active && !queued && !completed) {
      return {
        ...base,
        active,
        queued,
        completed,
        progress: null,
        eta: null,
        textinfo: "Waiting...",
      };
    }
    if (queued) {
      const ids = [...this.pending.entries()]
        .sort((x, y) => x[1] - y[1])
        .map(([task]) => task);
      const position = ids.indexOf(id) + 1;
      return {
        ...base,
        active,
        queued,
        completed,
        progress: null,
        eta: null,
        textinfo: `In queue: ${position}/${ids.length}`,
      };
    }
    const { job_count, job_no, sampling_step, sampling_steps } = this.state;
    let progress = 0;
    if (active && job_count > 0) progress += job_no / job_count;
    if (active && job_count > 0 && sampling_steps > 0) {
      progress += (1 / job_count) * (sampling_step / sampling_steps);
    }
    progress = Math.min(progress, 1);
    const elapsed = (now - this.startedAt) / 1000;
    const eta = progress > 0 ? elapsed / progress - elapsed : null;
    return {
      ...base,
      active,
      queued,
      completed,
      progress: completed ? 1 : progress,
      eta: completed ? null : eta,
      textinfo: null,
    };
  }
}
