import type { ZodType } from "zod";
import type { ProgressPhase } from "../job.js";
import type { ImageRequest } from "../request.js";

/** Progress as a backend reports it. */
export interface GpuProgress {
  /** What the GPU is doing. */
  readonly phase: ProgressPhase;
  /** Share done, 0 to 1, as the server reports it (may be noisy). */
  readonly fraction: number;
  /** Current sampling step, when known. */
  readonly step?: number;
  /** Total sampling steps, when known. */
  readonly steps?: number;
  /** The server's own estimate of time left, in ms, when it gives one. */
  readonly etaMs?: number;
}

/** One generated image. */
export interface GeneratedImage {
  /** Encoded bytes. */
  readonly data: Uint8Array;
  /** MIME type, such as `image/png`. */
  readonly contentType: string;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** The seed that made it. */
  readonly seed: number;
}

/** What a generation returned. */
export interface GenerateResult {
  /** The images, in order. */
  readonly images: readonly GeneratedImage[];
  /** What the server reported about the run. */
  readonly info: Record<string, unknown>;
}

/** Input of {@link GpuBackend.generate}. */
export interface GenerateInput {
  /** The validated request, seed resolved. */
  readonly request: ImageRequest;
  /** Id of this task on the server, chosen by the worker. */
  readonly taskId: string;
  /**
   * Aborting interrupts the task on the server; `generate` still settles
   * only once the server has let go of it.
   */
  readonly signal: AbortSignal;
  /** Called with each progress report. */
  readonly onProgress: (progress: GpuProgress) => void;
}

/**
 * One GPU server. It runs one job at a time; a backend lease in the store
 * makes sure only one worker drives it. Failures are thrown as
 * `ImageJobError`s with GPU_* codes; `serverFault` says whether the breaker
 * counts them and `outcomeUnknown` whether the task may still be running.
 */
export interface GpuBackend {
  /** Stable id of the server, shared by every process that drives it. */
  readonly id: string;
  /** The schema of this backend's own request fields (under `extra`). */
  readonly extraSchema?: ZodType<Record<string, unknown>>;
  /**
   * Runs one generation. Settles only once the server has let go of the
   * task, after an abort too.
   */
  generate(input: GenerateInput): Promise<GenerateResult>;
  /**
   * Interrupts `taskId` if it is still running there and resolves once the
   * server is idle. Safe to call for a task that already ended.
   */
  interrupt(taskId: string, signal?: AbortSignal): Promise<void>;
  /** Resolves once the server runs nothing. */
  waitUntilIdle(signal?: AbortSignal): Promise<void>;
  /** Resolves when the server answers and is usable; throws otherwise. */
  health(signal?: AbortSignal): Promise<void>;
}
