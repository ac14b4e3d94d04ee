import { randomUUID } from "node:crypto";
import {
  type GeneratedImage,
  type GenerateInput,
  type GenerateResult,
  type GpuBackend,
  ImageJobError,
  type Logger,
  silentLogger,
} from "@imagejobs/core";
import {
  buildForgePayload,
  FLUX_PRESET,
  type ForgePreset,
} from "./build-forge-payload.js";
import {
  createForgeClient,
  type ForgeClient,
  type ForgeClientOptions,
} from "./forge-client.js";
import { forgeRequestExtraSchema } from "./forge-request-extra.js";
import type { ForgeGeneration } from "./forge-schemas.js";
import { ProgressTracker } from "./progress-tracker.js";

/** A model preset name mapped to what Forge must load for it. */
export interface ForgeModel {
  /** `sd_model_checkpoint`: a title, file name or hash from sd-models. */
  readonly checkpoint: string;
  /** `forge_additional_modules` (VAE, text encoders) for split checkpoints. */
  readonly additionalModules?: readonly string[];
  /** Defaults of this model's family; replaces the backend's preset. */
  readonly preset?: ForgePreset;
}

/** Options of {@link createForgeBackend}. */
export interface ForgeBackendOptions extends ForgeClientOptions {
  /** Stable id of this server, shared by every process that drives it. */
  readonly id: string;
  /** A client already built; the connection options are then ignored. */
  readonly client?: ForgeClient;
  /** Defaults of the model family. @default FLUX_PRESET */
  readonly preset?: ForgePreset;
  /**
   * The request's `model` names mapped to checkpoints. A job for another
   * model switches with `POST /options` under the server lock first.
   */
  readonly models?: Readonly<Record<string, ForgeModel>>;
  /** Pause between progress polls during a job, ms. @default 1000 */
  readonly progressIntervalMs?: number;
  /**
   * Longest wait for the server to be idle after an abort or an unknown
   * outcome, ms. @default 600_000
   */
  readonly idleTimeoutMs?: number;
  /**
   * What to do when `info.sampler_name` is not the sampler asked for:
   * `fail` throws GPU_REJECTED (not a server fault); `warn` logs and adds
   * `samplerMismatch` to the result's info. @default "fail"
   */
  readonly onSamplerMismatch?: "fail" | "warn";
}

/** A Forge server as core's {@link GpuBackend}. */
export interface ForgeBackend extends GpuBackend {
  /** The client it drives the server with. */
  readonly client: ForgeClient;
}

function abortError(signal: AbortSignal): ImageJobError {
  const reason = signal.reason;
  if (ImageJobError.isInstance(reason)) return reason;
  return new ImageJobError("CANCELLED", {
    detail: "the generation was aborted and interrupted on the server",
    cause: reason,
  });
}

/** Reads width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) {
    return null;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Creates the GpuBackend of one Forge server: validated Forge fields
 * (`extraSchema`), an allow-listed payload, a per-server lock around model
 * switches and the generation, progress phases, and failures classified for
 * core's circuit breaker. `generate` settles only once Forge let go of it.
 */
export function createForgeBackend(options: ForgeBackendOptions): ForgeBackend {
  const client = options.client ?? createForgeClient(options);
  const logger: Logger = options.logger ?? silentLogger;
  const pollMs = options.progressIntervalMs ?? 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const running = new Map<string, string>();

  async function switchModel(model: ForgeModel, signal: AbortSignal) {
    const current = await client.getOptions({ signal });
    const wanted: Record<string, unknown> = {};
    const title = String(current.sd_model_checkpoint ?? "");
    if (
      title !== model.checkpoint &&
      !title.startsWith(`${model.checkpoint} `)
    ) {
      wanted.sd_model_checkpoint = model.checkpoint;
    }
    if (model.additionalModules) {
      wanted.forge_additional_modules = model.additionalModules;
    }
    if (Object.keys(wanted).length === 0) return;
    logger.info(
      { backend: options.id, checkpoint: model.checkpoint },
      "switching Forge model",
    );
    await client.setOptions(wanted, { signal });
  }

  function toResult(
    generation: ForgeGeneration,
    planned: number,
    asked: unknown,
  ): GenerateResult {
    const info: Record<string, unknown> = { ...generation.info };
    const ran = generation.info.sampler_name;
    if (typeof asked === "string" && ran !== asked) {
      const detail = `Forge ran sampler ${JSON.stringify(ran)} instead of ${JSON.stringify(asked)}`;
      if (options.onSamplerMismatch !== "warn") {
        throw new ImageJobError("GPU_REJECTED", { detail, serverFault: false });
      }
      logger.warn({ backend: options.id, asked, ran }, detail);
      info.samplerMismatch = { asked, ran };
    }
    const first = Number(generation.info.index_of_first_image ?? 0) || 0;
    const encoded = generation.images.slice(first, first + planned);
    if (encoded.length === 0) {
      throw new ImageJobError("GPU_ERROR", {
        detail: "Forge returned no image (interrupted on the server)",
        serverFault: false,
      });
    }
    const seed = generation.info.seed ?? 0;
    const images: GeneratedImage[] = encoded.map((base64, i) => {
      const data = new Uint8Array(Buffer.from(base64, "base64"));
      const size = pngSize(data);
      return {
        data,
        contentType: size ? "image/png" : "application/octet-stream",
        width: size?.width ?? Number(generation.info.width ?? 0),
        height: size?.height ?? Number(generation.info.height ?? 0),
        seed: generation.info.all_seeds?.[i] ?? seed + i,
      };
    });
    return { images, info };
  }

  async function run(input: GenerateInput): Promise<GenerateResult> {
    const { request, signal, onProgress } = input;
    const model = request.model ? options.models?.[request.model] : undefined;
    if (request.model && options.models && !model) {
      throw new ImageJobError("INVALID_REQUEST", {
        fields: [{ field: "model", message: "is not offered by this server" }],
        detail: `model ${request.model} is not configured for ${options.id}`,
      });
    }
    const forceTaskId = `task(imagejobs-${input.taskId}-${randomUUID().slice(0, 8)})`;
    const payload = buildForgePayload(request, {
      forceTaskId,
      preset: model?.preset ?? options.preset ?? FLUX_PRESET,
    });
    const planned = request.batchSize * Number(payload.n_iter ?? 1);
    onProgress({ phase: "waiting", fraction: 0 });

    return client.lock
      .run(async () => {
        if (model) await switchModel(model, signal);
        const baseline = (await client.progress({ signal })).state
          .job_timestamp;
        const tracker = new ProgressTracker(baseline);
        const http = new AbortController();
        let interrupting: Promise<void> | undefined;
        const onAbort = () => {
          interrupting = client
            .interrupt({ timeoutMs: idleTimeoutMs })
            .catch((error) =>
              logger.warn({ backend: options.id, error }, "interrupt failed"),
            )
            .finally(() => http.abort());
        };
        signal.addEventListener("abort", onAbort, { once: true });
        let polling = true;
        const poller = (async () => {
          while (polling) {
            await new Promise((resolve) => setTimeout(resolve, pollMs));
            if (!polling) break;
            try {
              const [global, task] = await Promise.all([
                client.progress(),
                client.taskProgress(forceTaskId),
              ]);
              if (polling) onProgress(tracker.update(global, task));
            } catch (error) {
              logger.debug(
                { backend: options.id, error },
                "progress poll failed",
              );
            }
          }
        })();
        running.set(input.taskId, forceTaskId);
        try {
          const generation = await client.txt2img(payload, {
            signal: http.signal,
            ...(options.generationTimeoutMs === undefined
              ? {}
              : { timeoutMs: options.generationTimeoutMs }),
          });
          if (signal.aborted) throw abortError(signal);
          return toResult(generation, planned, payload.sampler_name);
        } catch (error) {
          if (signal.aborted) {
            if (!interrupting) onAbort();
            await interrupting;
            throw abortError(signal);
          }
          const failure = ImageJobError.from(error);
          if (failure.outcomeUnknown) {
            logger.warn(
              { backend: options.id, taskId: input.taskId, code: failure.code },
              "outcome unknown; waiting for Forge to be idle",
            );
            await client
              .waitUntilIdle({ timeoutMs: idleTimeoutMs })
              .catch((cause) =>
                logger.warn({ backend: options.id, cause }, "not idle"),
              );
          }
          throw failure;
        } finally {
          polling = false;
          signal.removeEventListener("abort", onAbort);
          running.delete(input.taskId);
          await poller;
        }
      }, signal)
      .catch((error) => {
        if (signal.aborted && !ImageJobError.isInstance(error)) {
          throw abortError(signal);
        }
        throw error;
      });
  }

  return {
    id: options.id,
    client,
    extraSchema: forgeRequestExtraSchema,
    generate: run,
    async interrupt(taskId, signal) {
      const call = { timeoutMs: idleTimeoutMs, ...(signal ? { signal } : {}) };
      if (running.has(taskId)) await client.interrupt(call);
      else await client.waitUntilIdle(call);
    },
    waitUntilIdle: (signal) =>
      client.waitUntilIdle({
        timeoutMs: idleTimeoutMs,
        ...(signal ? { signal } : {}),
      }),
    health: (signal) => client.health(signal ? { signal } : {}),
  };
}
