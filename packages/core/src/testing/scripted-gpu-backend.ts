import { ImageJobError } from "../errors.js";
import type {
  GeneratedImage,
  GenerateInput,
  GenerateResult,
  GpuBackend,
  GpuProgress,
} from "../ports/gpu-backend.js";

let started = 0;

/** One call of {@link ScriptedGpuBackend.generate}, driven by the test. */
export class ScriptedRun {
  /** What the worker asked for. */
  readonly input: GenerateInput;
  /** Whether the worker aborted it (interrupt on the GPU). */
  interrupted = false;
  /** Whether it has settled. */
  settled = false;
  /** Order in which runs started, across every scripted backend. */
  readonly startedAt = ++started;
  readonly #resolve: (result: GenerateResult) => void;
  readonly #reject: (error: unknown) => void;
  readonly #onSettle: () => void;

  constructor(
    input: GenerateInput,
    resolve: (result: GenerateResult) => void,
    reject: (error: unknown) => void,
    onSettle: () => void,
  ) {
    this.input = input;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onSettle = onSettle;
  }

  /** Reports progress to the worker. */
  progress(report: GpuProgress): void {
    if (!this.settled) this.input.onProgress(report);
  }

  /** Reports sampling step `step` of `steps`. */
  step(step: number, steps = this.input.request.steps): void {
    this.progress({ phase: "sampling", step, steps, fraction: step / steps });
  }

  /**
   * Finishes with one image per batch item (or the given images). The info
   * names the task, so a test can tell which run a stored result came from.
   */
  succeed(
    images?: GeneratedImage[],
    info: Record<string, unknown> = { taskId: this.input.taskId },
  ): void {
    const { request } = this.input;
    const made =
      images ??
      Array.from({ length: request.batchSize }, (_, index) => ({
        data: fakePng(request.seed + index),
        contentType: "image/png",
        width: request.width,
        height: request.height,
        seed: request.seed + index,
      }));
    this.#settle(() => this.#resolve({ images: made, info }));
  }

  /** Fails with `error` (an ImageJobError with a GPU_* code, usually). */
  fail(error: unknown): void {
    this.#settle(() => this.#reject(error));
  }

  /** Lets go of an interrupted run (the server stopped it). */
  letGo(): void {
    this.fail(
      new ImageJobError("CANCELLED", { detail: "interrupted on the GPU" }),
    );
  }

  #settle(action: () => void): void {
    if (this.settled) return;
    this.settled = true;
    this.#onSettle();
    action();
  }
}

/** Options of {@link ScriptedGpuBackend}. */
export interface ScriptedGpuBackendOptions {
  /** Backend id. @default "gpu-1" */
  readonly id?: string;
  /**
   * Whether an aborted run lets go of the GPU by itself at once; false
   * keeps it busy until the test calls `letGo()`. @default true
   */
  readonly letGoOnAbort?: boolean;
  /** Called for each new run, to drive it automatically. */
  readonly onRun?: (run: ScriptedRun) => void;
}

/**
 * A GPU backend that tests drive by hand: every `generate` call becomes a
 * {@link ScriptedRun} the test reports progress on, finishes or fails. It
 * records how many runs overlap, which must never exceed one.
 */
export class ScriptedGpuBackend implements GpuBackend {
  /** Backend id. */
  readonly id: string;
  /** Every run, in order. */
  readonly runs: ScriptedRun[] = [];
  /** Task ids interrupted through `interrupt()`. */
  readonly interruptedTasks: string[] = [];
  /** Whether `health()` succeeds. */
  healthy = true;
  /** Number of `health()` calls. */
  healthChecks = 0;
  /** The most runs that were active at once. */
  maxConcurrent = 0;
  readonly #letGoOnAbort: boolean;
  readonly #onRun: ((run: ScriptedRun) => void) | undefined;
  readonly #waiters: (() => void)[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  #active = 0;

  constructor(options: ScriptedGpuBackendOptions = {}) {
    this.id = options.id ?? "gpu-1";
    this.#letGoOnAbort = options.letGoOnAbort ?? true;
    this.#onRun = options.onRun;
  }

  /** Runs not yet settled. */
  get active(): number {
    return this.#active;
  }

  generate(input: GenerateInput): Promise<GenerateResult> {
    return new Promise<GenerateResult>((resolve, reject) => {
      this.#active += 1;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.#active);
      const run = new ScriptedRun(input, resolve, reject, () => {
        this.#active -= 1;
        if (this.#active === 0) {
          for (const wake of this.#idleWaiters.splice(0)) wake();
        }
      });
      this.runs.push(run);
      const onAbort = () => {
        run.interrupted = true;
        if (this.#letGoOnAbort) run.letGo();
      };
      if (input.signal.aborted) onAbort();
      else input.signal.addEventListener("abort", onAbort, { once: true });
      for (const wake of this.#waiters.splice(0)) wake();
      this.#onRun?.(run);
    });
  }

  /** Resolves with run number `index` (0-based) once it has started. */
  run(index: number): Promise<ScriptedRun> {
    return new Promise((resolve) => {
      const check = () => {
        const run = this.runs[index];
        if (run) resolve(run);
        else this.#waiters.push(check);
      };
      check();
    });
  }

  async interrupt(taskId: string): Promise<void> {
    this.interruptedTasks.push(taskId);
    for (const run of this.runs) {
      if (run.input.taskId === taskId && !run.settled) {
        run.interrupted = true;
        if (this.#letGoOnAbort) run.letGo();
      }
    }
    await this.waitUntilIdle();
  }

  waitUntilIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async health(): Promise<void> {
    this.healthChecks += 1;
    if (!this.healthy) {
      throw new ImageJobError("GPU_UNAVAILABLE", {
        detail: "scripted backend is down",
        serverFault: true,
      });
    }
  }
}

/** Bytes that stand for a PNG in core's tests (the signature and a seed). */
export function fakePng(seed: number): Uint8Array {
  const bytes = new Uint8Array(12);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  new DataView(bytes.buffer).setUint32(8, seed >>> 0);
  return bytes;
}
