import type { Agent } from "node:http";
import { ImageJobError, type Logger, silentLogger } from "@imagejobs/core";
import { type ZodType, z } from "zod";
import { detectForgeFeatures, type ForgeFeatures } from "./detect-features.js";
import {
  type ForgeGeneration,
  type ForgeProgress,
  type ForgeTaskProgress,
  generationSchema,
  memorySchema,
  optionsSchema,
  progressSchema,
  samplersSchema,
  schedulersSchema,
  sdModelsSchema,
  sdModulesSchema,
  taskProgressSchema,
} from "./forge-schemas.js";
import {
  createFetchTransport,
  createNodeTransport,
  type HttpResponse,
  type HttpTransport,
  TransportError,
  toTransportError,
} from "./http-transport.js";
import { parseForgeError, parseTransportError } from "./parse-forge-error.js";
import { ServerLock } from "./server-lock.js";

/** Options of {@link createForgeClient}. */
export interface ForgeClientOptions {
  /** Forge's base URL, such as `http://gpu-1:7860` (with any `--subpath`). */
  readonly baseUrl: string;
  /** HTTP Basic credentials for `--api-auth`. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Extra headers sent on every call (for a proxy, say). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A `fetch` to send calls with. Unset: `node:http`, with no hidden
   * timeouts. Node's own `fetch` cuts calls after 300 s unless bound to an
   * undici dispatcher with `headersTimeout: 0, bodyTimeout: 0`.
   */
  readonly fetch?: typeof fetch;
  /** An `http.Agent` for the default transport. */
  readonly agent?: Agent;
  /** A custom transport; wins over `fetch` and `agent`. */
  readonly transport?: HttpTransport;
  /** Deadline of calls other than generations, ms. @default 30_000 */
  readonly timeoutMs?: number;
  /** Deadline of txt2img and img2img, ms; 0 for none. @default 1_800_000 */
  readonly generationTimeoutMs?: number;
  /** Pause between polls while waiting for idle, ms. @default 500 */
  readonly pollIntervalMs?: number;
  /** Where to log. @default silentLogger */
  readonly logger?: Logger;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call. */
  readonly signal?: AbortSignal;
  /** Replaces the client's deadline for this call, ms; 0 for none. */
  readonly timeoutMs?: number;
}

/** A typed client of one Forge (or AUTOMATIC1111) server. */
export interface ForgeClient {
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** The per-server lock that generations and option writes take. */
  readonly lock: ServerLock;
  /** `POST /sdapi/v1/txt2img`, under the lock. */
  txt2img(
    payload: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<ForgeGeneration>;
  /** `POST /sdapi/v1/img2img`, under the lock. */
  img2img(
    payload: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<ForgeGeneration>;
  /** `GET /sdapi/v1/progress?skip_current_image=true`. */
  progress(options?: CallOptions): Promise<ForgeProgress>;
  /**
   * `POST /internal/progress` for one `force_task_id`; null when the route
   * is absent (`--nowebui`, or A1111 without it).
   */
  taskProgress(
    taskId: string,
    options?: CallOptions,
  ): Promise<ForgeTaskProgress | null>;
  /** Sends the interrupt flag once, without waiting. */
  sendInterrupt(options?: CallOptions): Promise<void>;
  /**
   * Interrupts whatever runs and resolves once the server is idle, sending
   * the flag again while it is not.
   */
  interrupt(options?: CallOptions): Promise<void>;
  /** `POST /sdapi/v1/skip`: ends the current batch early. */
  skip(options?: CallOptions): Promise<void>;
  /** `GET /sdapi/v1/options`. */
  getOptions(options?: CallOptions): Promise<Record<string, unknown>>;
  /** `POST /sdapi/v1/options`, under the lock. */
  setOptions(
    values: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<void>;
  /** `GET /sdapi/v1/sd-models`. */
  sdModels(options?: CallOptions): Promise<typeof sdModelsSchema._output>;
  /** `GET /sdapi/v1/sd-modules` (Forge only). */
  sdModules(options?: CallOptions): Promise<typeof sdModulesSchema._output>;
  /** `GET /sdapi/v1/samplers`. */
  samplers(options?: CallOptions): Promise<typeof samplersSchema._output>;
  /** `GET /sdapi/v1/schedulers`. */
  schedulers(options?: CallOptions): Promise<typeof schedulersSchema._output>;
  /** `GET /sdapi/v1/memory`. */
  memory(options?: CallOptions): Promise<typeof memorySchema._output>;
  /** Resolves when the server answers; `/internal/ping` or `/progress`. */
  health(options?: CallOptions): Promise<void>;
  /** Polls `/progress` until `job_count` is 0. */
  waitUntilIdle(options?: CallOptions): Promise<void>;
  /** Forge or A1111, UI or API-only; detected once, then cached. */
  features(options?: CallOptions): Promise<ForgeFeatures>;
}

/** Creates a {@link ForgeClient}. */
export function createForgeClient(options: ForgeClientOptions): ForgeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const logger = options.logger ?? silentLogger;
  const transport =
    options.transport ??
    (options.fetch
      ? createFetchTransport(options.fetch)
      : createNodeTransport(options.agent ? { agent: options.agent } : {}));
  const headers: Record<string, string> = {
    accept: "application/json",
    ...options.headers,
  };
  if (options.auth) {
    const token = Buffer.from(
      `${options.auth.username}:${options.auth.password}`,
    ).toString("base64");
    headers.authorization = `Basic ${token}`;
  }
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const generationTimeout = options.generationTimeoutMs ?? 1_800_000;
  const pollMs = options.pollIntervalMs ?? 500;
  const lock = ServerLock.for(baseUrl);
  let taskRoute: boolean | undefined;
  let featureCache: Promise<ForgeFeatures> | undefined;

  async function raw(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    call: CallOptions,
    fallbackTimeout: number,
  ): Promise<HttpResponse> {
    const timeout = call.timeoutMs ?? fallbackTimeout;
    const signals = [
      ...(call.signal ? [call.signal] : []),
      ...(timeout > 0 ? [AbortSignal.timeout(timeout)] : []),
    ];
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    try {
      return await transport({
        method,
        url: `${baseUrl}${path}`,
        headers:
          body === undefined
            ? headers
            : { ...headers, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const failure =
        error instanceof TransportError
          ? error
          : toTransportError(error, signal);
      if (failure.kind === "aborted" && call.signal?.aborted) {
        const reason = call.signal.reason;
        if (ImageJobError.isInstance(reason)) throw reason;
      }
      throw parseTransportError(failure, `${method} ${path}`);
    }
  }

  async function call<T>(
    method: "GET" | "POST",
    path: string,
    schema: ZodType<T>,
    body: unknown,
    callOptions: CallOptions = {},
    fallbackTimeout = defaultTimeout,
  ): Promise<T> {
    const route = `${method} ${path}`;
    const started = Date.now();
    const response = await raw(
      method,
      path,
      body,
      callOptions,
      fallbackTimeout,
    );
    if (response.status < 200 || response.status >= 300) {
      const error = parseForgeError(response, route);
      logger.debug(
        { route, status: response.status, code: error.code },
        "forge call failed",
      );
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(response.text);
    } catch (cause) {
      throw new ImageJobError("GPU_ERROR", {
        detail: `Forge ${route} answered ${response.status} with a body that is not JSON`,
        cause,
        serverFault: true,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ImageJobError("GPU_ERROR", {
        detail: `Forge ${route} answered an unexpected shape: ${parsed.error.message}`,
        cause: parsed.error,
        serverFault: true,
      });
    }
    logger.debug({ route, durationMs: Date.now() - started }, "forge call");
    return parsed.data;
  }

  const any = z.unknown();
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });

  async function pollUntilIdle(
    callOptions: CallOptions,
    onBusy?: (polls: number) => Promise<void>,
  ): Promise<void> {
    const timeout = callOptions.timeoutMs ?? 600_000;
    const deadline = timeout > 0 ? Date.now() + timeout : Infinity;
    let lastError: unknown;
    for (let polls = 0; ; polls++) {
      try {
        const now = await client.progress({
          ...(callOptions.signal ? { signal: callOptions.signal } : {}),
          timeoutMs: Math.min(
            defaultTimeout,
            Math.max(1, deadline - Date.now()),
          ),
        });
        if (now.state.job_count === 0) return;
        await onBusy?.(polls);
      } catch (error) {
        if (callOptions.signal?.aborted) throw error;
        // A server that refuses connections runs nothing: its process is
        // gone, and with it any job it held.
        if (isRefused(error)) return;
        lastError = error;
      }
      if (Date.now() + pollMs > deadline) {
        throw new ImageJobError("GPU_UNAVAILABLE", {
          detail: `Forge at ${baseUrl} did not become idle within ${timeout} ms`,
          cause: lastError,
          serverFault: true,
        });
      }
      await sleep(pollMs, callOptions.signal);
    }
  }

  const client: ForgeClient = {
    baseUrl,
    lock,
    txt2img: (payload, o = {}) =>
      lock.run(
        () =>
          call(
            "POST",
            "/sdapi/v1/txt2img",
            generationSchema,
            payload,
            o,
            generationTimeout,
          ),
        o.signal,
      ),
    img2img: (payload, o = {}) =>
      lock.run(
        () =>
          call(
            "POST",
            "/sdapi/v1/img2img",
            generationSchema,
            payload,
            o,
            generationTimeout,
          ),
        o.signal,
      ),
    progress: (o) =>
      call(
        "GET",
        "/sdapi/v1/progress?skip_current_image=true",
        progressSchema,
        undefined,
        o,
      ),
    async taskProgress(taskId, o = {}) {
      if (taskRoute === false) return null;
      const body = {
        id_task: taskId,
        id_live_preview: -1,
        live_preview: false,
      };
      const response = await raw(
        "POST",
        "/internal/progress",
        body,
        o,
        defaultTimeout,
      );
      if (response.status === 404) {
        taskRoute = false;
        return null;
      }
      if (response.status !== 200) {
        throw parseForgeError(response, "POST /internal/progress");
      }
      taskRoute = true;
      return taskProgressSchema.parse(JSON.parse(response.text));
    },
    async sendInterrupt(o) {
      await call("POST", "/sdapi/v1/interrupt", any, {}, o);
    },
    async interrupt(o = {}) {
      await client.sendInterrupt(o);
      await pollUntilIdle(o, async (polls) => {
        // An interrupt sent before the job's begin() is lost: send again.
        if (polls % 4 === 3) await client.sendInterrupt(o);
      });
    },
    async skip(o) {
      await call("POST", "/sdapi/v1/skip", any, {}, o);
    },
    getOptions: (o) =>
      call("GET", "/sdapi/v1/options", optionsSchema, undefined, o),
    setOptions: (values, o = {}) =>
      lock.run(async () => {
        await call("POST", "/sdapi/v1/options", any, values, o);
      }, o.signal),
    sdModels: (o) =>
      call("GET", "/sdapi/v1/sd-models", sdModelsSchema, undefined, o),
    sdModules: (o) =>
      call("GET", "/sdapi/v1/sd-modules", sdModulesSchema, undefined, o),
    samplers: (o) =>
      call("GET", "/sdapi/v1/samplers", samplersSchema, undefined, o),
    schedulers: (o) =>
      call("GET", "/sdapi/v1/schedulers", schedulersSchema, undefined, o),
    memory: (o) => call("GET", "/sdapi/v1/memory", memorySchema, undefined, o),
    async health(o = {}) {
      const features = await client.features(o);
      if (features.ui) await call("GET", "/internal/ping", any, undefined, o);
      else await client.progress(o);
    },
    waitUntilIdle: (o = {}) => pollUntilIdle(o),
    features(o = {}) {
      featureCache ??= detectForgeFeatures((path) =>
        raw("GET", path, undefined, o, defaultTimeout),
      ).catch((error) => {
        featureCache = undefined;
        throw error;
      });
      return featureCache;
    },
  };
  return client;
}

function isRefused(error: unknown): boolean {
  const cause = ImageJobError.isInstance(error) ? error.cause : error;
  return cause instanceof TransportError && cause.kind === "refused";
}
