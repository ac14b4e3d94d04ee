import type { WriteStream } from "node:tty";
import type { JobView } from "@imagejobs/core";

/**
 * The terminal view of a run: a progress bar per running job, the queue
 * length, done and failed counts. Not a terminal: one log line per change.
 */
export class LiveView {
  readonly #out: NodeJS.WriteStream | WriteStream;
  readonly #total: number;
  readonly #running = new Map<string, JobView>();
  #queued = 0;
  #succeeded = 0;
  #failed = 0;
  #lines = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(out: NodeJS.WriteStream, total: number) {
    this.#out = out;
    this.#total = total;
    if (out.isTTY) this.#timer = setInterval(() => this.#draw(), 150);
  }

  /** Records a job change. */
  job(job: JobView): void {
    const before = this.#running.has(job.id);
    if (job.status === "running") this.#running.set(job.id, job);
    else this.#running.delete(job.id);
    if (job.status === "succeeded") this.#succeeded += 1;
    if (job.status === "failed" || job.status === "cancelled")
      this.#failed += 1;
    if (!this.#out.isTTY && (job.status !== "running" || !before)) {
      const code = job.error ? ` ${job.error.code}` : "";
      this.#out.write(
        `#${job.ticket} ${job.status}${code}: ${job.request.prompt.slice(0, 60)}\n`,
      );
    }
  }

  /** Records the queue length. */
  queued(count: number): void {
    this.#queued = count;
  }

  /** Stops redrawing. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#out.isTTY) this.#draw();
  }

  #draw(): void {
    const lines = [
      `queue ${this.#queued}  running ${this.#running.size}  done ${this.#succeeded}/${this.#total}  failed ${this.#failed}`,
      ...[...this.#running.values()].map((job) => {
        const fraction = job.progress?.fraction ?? 0;
        const filled = Math.round(fraction * 30);
        const steps = job.progress?.step
          ? ` ${job.progress.step}/${job.progress.steps}`
          : "";
        return `#${String(job.ticket).padEnd(4)} [${"#".repeat(filled)}${".".repeat(30 - filled)}]${steps} ${job.request.prompt.slice(0, 40)}`;
      }),
    ];
    const clear = this.#lines > 0 ? `\x1b[${this.#lines}A\x1b[0J` : "";
    this.#out.write(`${clear}${lines.join("\n")}\n`);
    this.#lines = lines.length;
  }
}
