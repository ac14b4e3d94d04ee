import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { FifoLock } from "../fifo-lock.js";
import { ForgeState, type StateSnapshot } from "./forge-state.js";
import { parseGenerationBody } from "./generation-request.js";
import {
  type ForgeException,
  type GenerationHost,
  JobLost,
  type RouteAnswer,
  runGeneration,
} from "./run-generation.js";
import { defaultOptions } from "./stand-in-catalog.js";
import { routeRequest } from "./stand-in-routes.js";

/** Options of {@link startStandInForge}. */
export interface StandInForgeOptions {
  /** Port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Address to bind. @default "127.0.0.1" */
  readonly host?: string;
  /**
   * `ui` mounts `/internal/*` like Forge with its web UI; `api-only`
   * behaves like `--nowebui`. @default "ui"
   */
  readonly mode?: "ui" | "api-only";
  /** `--api-auth` credentials, `"user:pass,user2:pass2"`. Unset: no auth. */
  readonly apiAuth?: string;
  /** Time per sampling step, ms. @default 2 */
  readonly stepMs?: number;
  /** Time to load a model on the first job or after a switch, ms. @default 0 */
  readonly modelLoadMs?: number;
  /** Handler threads before requests wait for one (Forge: 40). @default 40 */
  readonly maxThreads?: number;
}

/** A running stand-in Forge server and its test controls. */
export interface StandInForge {
  /** Base URL, such as `http://127.0.0.1:7860`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** The generation bodies received, in order, as sent. */
  readonly received: readonly Record<string, unknown>[];
  /** A copy of the current progress state. */
  state(): StateSnapshot;
  /** Resolves once `predicate` holds for the progress state. */
  waitForState(predicate: (state: StateSnapshot) => boolean): Promise<void>;
  /**
   * Pauses jobs when they reach `step` (of batch `batch`, or of any batch)
   * until {@link release}.
   */
  hold(step: number, batch?: number): void;
  /** Lets a held job go on and removes the hold. */
  release(): void;
  /** Sets the time per step, ms. */
  setStepMs(ms: number): void;
  /** Sets the model-load delay, ms; the next job loads the model again. */
  setModelLoadMs(ms: number): void;
  /** Makes the next job fail with CUDA out of memory at `step`. */
  failWithOomAtStep(step: number): void;
  /** Makes the next job raise `exception` (a Forge 500). */
  failNextJob(exception: ForgeException): void;
  /** Cuts the connection of the next generation request. */
  resetNextGeneration(): void;
  /** Leaves the next generation request unanswered, forever. */
  hangNextGeneration(): void;
  /**
   * Puts a fake proxy in front: generation answers slower than `ms` become
   * an HTML 504 while the job goes on. `null` removes it.
   */
  setProxyTimeout(ms: number | null): void;
  /** CUDA OOMs since start (`/memory` `events.oom`). */
  readonly oomCount: number;
  /**
   * Restarts: every connection is dropped, all state and queued work is
   * forgotten, and the port refuses connections for `downMs`.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and drops every connection. */
  close(): Promise<void>;
}

class StandIn implements GenerationHost {
  state = new ForgeState();
  lock = new FifoLock();
  options: Record<string, unknown> = {};
  loadedModel: string | null = null;
  oomCount = 0;
  modelLoadMs: number;
  stepMs: number;
  oomAtStep: number | null = null;
  failures: ForgeException[] = [];
  epoch = 0;
  holdStep: number | null = null;
  holdBatch: number | undefined;
  resetNext = false;
  hangNext = false;
  proxyTimeoutMs: number | null = null;
  readonly received: Record<string, unknown>[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly holdWaiters = new Set<() => void>();
  private threads = 0;
  private readonly threadQueue: Array<() => void> = [];
  private seed = 0x2545f491;

  constructor(
    readonly settings: Required<Omit<StandInForgeOptions, "apiAuth">> & {
      apiAuth?: string;
    },
    readonly reset: () => Record<string, unknown>,
  ) {
    this.modelLoadMs = settings.modelLoadMs;
    this.stepMs = settings.stepMs;
    this.options = reset();
  }

  check(epoch: number): void {
    if (epoch !== this.epoch) throw new JobLost("restarted");
  }

  async wait(ms: number, epoch: number): Promise<void> {
    await new Promise<void>((resolve) =>
      ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve),
    );
    this.check(epoch);
  }

  async step(step: number, epoch: number): Promise<void> {
    await this.wait(this.stepMs, epoch);
    const held = () =>
      this.holdStep === step &&
      (this.holdBatch === undefined ||
        this.holdBatch === this.state.state.job_no);
    while (held() && epoch === this.epoch) {
      await new Promise<void>((resolve) => this.holdWaiters.add(resolve));
    }
    this.check(epoch);
  }

  release(): void {
    this.holdStep = null;
    for (const wake of this.holdWaiters) wake();
    this.holdWaiters.clear();
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  waitForState(predicate: (state: StateSnapshot) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const test = () => {
        if (!predicate(this.state.state)) return;
        this.listeners.delete(test);
        resolve();
      };
      this.listeners.add(test);
      test();
    });
  }

  random(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return this.seed / 4294967296;
  }

  forget(): void {
    this.epoch += 1;
    this.release();
    this.state = new ForgeState();
    this.lock = new FifoLock();
    this.options = this.reset();
    this.loadedModel = null;
    this.oomAtStep = null;
    this.failures.length = 0;
    this.threads = 0;
    this.threadQueue.length = 0;
    this.notify();
  }

  /** Takes a handler thread, waiting when the pool is exhausted. */
  async thread(): Promise<() => void> {
    if (this.threads >= this.settings.maxThreads) {
      await new Promise<void>((resolve) => this.threadQueue.push(resolve));
    } else {
      this.threads += 1;
    }
    const epoch = this.epoch;
    let done = false;
    return () => {
      if (done || epoch !== this.epoch) return;
      done = true;
      const next = this.threadQueue.shift();
      if (next) next();
      else this.threads -= 1;
    };
  }

  async generate(
    kind: "txt2img" | "img2img",
    body: unknown,
  ): Promise<RouteAnswer> {
    if (typeof body === "object" && body !== null) {
      this.received.push(body as Record<string, unknown>);
    }
    const parsed = parseGenerationBody(body);
    if (!parsed.ok) return { status: 422, body: { detail: parsed.detail } };
    const request = parsed.request;
    if (kind === "img2img" && !Array.isArray(request.init_images)) {
      return { status: 404, body: { detail: "Init image not found" } };
    }
    const taskId =
      typeof request.force_task_id === "string"
        ? request.force_task_id
        : `task(${kind}-${Math.floor(this.random() * 1e7)})`;
    return runGeneration(this, kind, request, taskId);
  }
}

/** Starts a stand-in Forge server (FORGE-API.md §16) over real HTTP. */
export async function startStandInForge(
  options: StandInForgeOptions = {},
): Promise<StandInForge> {
  const settings = {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    mode: options.mode ?? "ui",
    stepMs: options.stepMs ?? 2,
    modelLoadMs: options.modelLoadMs ?? 0,
    maxThreads: options.maxThreads ?? 40,
    ...(options.apiAuth === undefined ? {} : { apiAuth: options.apiAuth }),
  };
  const core = new StandIn(settings, defaultOptions);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void handle(core, req, res);
  });
  server.requestTimeout = 0;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, settings.host, () => {
        server.off("error", reject);
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const port = await listen(settings.port);

  return {
    url: `http://${settings.host}:${port}`,
    port,
    received: core.received,
    get oomCount() {
      return core.oomCount;
    },
    state: () => ({ ...core.state.state }),
    waitForState: (predicate) => core.waitForState(predicate),
    hold: (step, batch) => {
      core.holdStep = step;
      core.holdBatch = batch;
    },
    release: () => core.release(),
    setStepMs: (ms) => {
      core.stepMs = ms;
    },
    setModelLoadMs: (ms) => {
      core.modelLoadMs = ms;
      core.loadedModel = null;
    },
    failWithOomAtStep: (step) => {
      core.oomAtStep = step;
    },
    failNextJob: (exception) => {
      core.failures.push(exception);
    },
    resetNextGeneration: () => {
      core.resetNext = true;
    },
    hangNextGeneration: () => {
      core.hangNext = true;
    },
    setProxyTimeout: (ms) => {
      core.proxyTimeoutMs = ms;
    },
    restart: async (restartOptions = {}) => {
      core.forget();
      await stop();
      if (restartOptions.downMs) {
        await new Promise((resolve) =>
          setTimeout(resolve, restartOptions.downMs),
        );
      }
      await listen(port);
    },
    close: async () => {
      core.forget();
      await stop();
    },
  };
}

async function handle(
  core: StandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const epoch = core.epoch;
  const release = await core.thread();
  try {
    const answer = await routeRequest(core, req, res);
    if (answer === null || epoch !== core.epoch || res.destroyed) return;
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  } catch (error) {
    if (error instanceof JobLost) return;
    if (!res.headersSent && !res.destroyed) {
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: "Exception", detail: "", body: "", message }),
      );
    }
  } finally {
    release();
  }
}

export type { StandIn };
