import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteAnswer } from "./run-generation.js";
import {
  findModel,
  memoryBody,
  STAND_IN_MODELS,
  STAND_IN_MODULES,
  samplerList,
  schedulerList,
} from "./stand-in-catalog.js";
import type { StandIn } from "./stand-in-forge.js";

const NOT_FOUND: RouteAnswer = { status: 404, body: { detail: "Not Found" } };

/** The HTML page a proxy such as nginx sends when Forge is too slow. */
export const GATEWAY_TIMEOUT_HTML =
  "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): { value: unknown } | RouteAnswer {
  if (text.trim() === "") return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return {
      status: 422,
      body: {
        detail: [
          {
            type: "json_invalid",
            loc: ["body", 0],
            msg: "JSON decode error",
            input: {},
            ctx: { error: "Expecting value" },
          },
        ],
      },
    };
  }
}

/** Checks `--api-auth` Basic credentials; returns the 401 or null. */
function authFailure(core: StandIn, req: IncomingMessage): RouteAnswer | null {
  const setting = core.settings.apiAuth;
  if (!setting) return null;
  const header = req.headers.authorization ?? "";
  const unauthorized = (detail: string): RouteAnswer => ({
    status: 401,
    body: { detail },
  });
  if (!header.startsWith("Basic ")) return unauthorized("Not authenticated");
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  if (!decoded.includes(":")) {
    return unauthorized("Invalid authentication credentials");
  }
  const allowed = setting.split(",").map((pair) => pair.trim());
  return allowed.includes(decoded)
    ? null
    : unauthorized("Incorrect username or password");
}

function setOptions(core: StandIn, body: unknown): RouteAnswer {
  const raise = (error: string, message: string): RouteAnswer => ({
    status: 500,
    body: { error, detail: "", body: "", message },
  });
  if (typeof body !== "object" || body === null) {
    return {
      status: 422,
      body: {
        detail: [
          {
            type: "dict_type",
            loc: ["body"],
            msg: "Input should be a valid dictionary",
            input: body ?? null,
          },
        ],
      },
    };
  }
  for (const [key, value] of Object.entries(body)) {
    if (key === "sd_model_checkpoint") {
      const model = findModel(String(value));
      if (!model) return raise("RuntimeError", `model '${value}' not found`);
      core.options.sd_model_checkpoint = model.title;
      core.options.sd_checkpoint_hash = model.sha256;
      continue;
    }
    if (key === "forge_additional_modules") {
      const names = Array.isArray(value) ? value.map(String) : [];
      core.options[key] = STAND_IN_MODULES.filter((module) =>
        names.some((name) => name.split("/").pop() === module.model_name),
      ).map((module) => module.filename);
      continue;
    }
    if (!(key in core.options)) return raise("KeyError", `'${key}'`);
    core.options[key] = value;
  }
  return { status: 200, body: null };
}

async function generation(
  core: StandIn,
  kind: "txt2img" | "img2img",
  body: unknown,
  res: ServerResponse,
): Promise<RouteAnswer | null> {
  if (core.resetNext) {
    core.resetNext = false;
    res.socket?.destroy();
    return null;
  }
  if (core.hangNext) {
    core.hangNext = false;
    return new Promise<never>(() => {});
  }
  const running = core.generate(kind, body);
  const proxyMs = core.proxyTimeoutMs;
  if (proxyMs === null) return running;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), proxyMs);
  });
  const first = await Promise.race([running, timedOut]);
  clearTimeout(timer);
  if (first !== "timeout") return first;
  running.catch(() => {});
  res.writeHead(504, { "content-type": "text/html" });
  res.end(GATEWAY_TIMEOUT_HTML);
  return null;
}

/**
 * Answers one request like Forge would. Returns null when it already wrote
 * (or deliberately dropped) the response.
 */
export async function routeRequest(
  core: StandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<RouteAnswer | null> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const route = `${req.method} ${url.pathname}`;
  const text = await readBody(req);
  const ui = core.settings.mode === "ui";

  if (url.pathname.startsWith("/internal/")) {
    if (!ui) return NOT_FOUND;
    if (route === "GET /internal/ping") return { status: 200, body: {} };
    if (route === "GET /internal/pending-tasks") {
      const tasks = [...core.state.pending.keys()];
      return { status: 200, body: { size: tasks.length, tasks } };
    }
    if (route === "POST /internal/progress") {
      const parsed = parseJson(text);
      if ("status" in parsed) return parsed;
      const id = (parsed.value as { id_task?: unknown } | undefined)?.id_task;
      return {
        status: 200,
        body: core.state.taskProgressBody(String(id), Date.now()),
      };
    }
    return NOT_FOUND;
  }
  if (route === "GET /sdapi/v1/loras") return { status: 200, body: [] };
  if (!url.pathname.startsWith("/sdapi/v1/")) return NOT_FOUND;
  const denied = authFailure(core, req);
  if (denied) return denied;

  switch (route) {
    case "POST /sdapi/v1/txt2img":
    case "POST /sdapi/v1/img2img": {
      const parsed = parseJson(text);
      if ("status" in parsed) return parsed;
      const kind = route.endsWith("txt2img") ? "txt2img" : "img2img";
      return generation(core, kind, parsed.value, res);
    }
    case "GET /sdapi/v1/progress":
      return { status: 200, body: core.state.progressBody(Date.now()) };
    case "POST /sdapi/v1/interrupt":
      core.state.state.interrupted = true;
      core.notify();
      return { status: 200, body: {} };
    case "POST /sdapi/v1/skip":
      core.state.state.skipped = true;
      core.notify();
      return { status: 200, body: null };
    case "GET /sdapi/v1/options":
      return { status: 200, body: core.options };
    case "POST /sdapi/v1/options": {
      const parsed = parseJson(text);
      if ("status" in parsed) return parsed;
      return setOptions(core, parsed.value);
    }
    case "GET /sdapi/v1/samplers":
      return { status: 200, body: samplerList() };
    case "GET /sdapi/v1/schedulers":
      return { status: 200, body: schedulerList() };
    case "GET /sdapi/v1/sd-models":
      return { status: 200, body: STAND_IN_MODELS };
    case "GET /sdapi/v1/sd-modules":
      return { status: 200, body: STAND_IN_MODULES };
    case "GET /sdapi/v1/memory":
      return { status: 200, body: memoryBody(core.oomCount) };
    case "POST /sdapi/v1/unload-checkpoint":
      core.loadedModel = null;
      return { status: 200, body: {} };
    case "POST /sdapi/v1/reload-checkpoint":
      return { status: 200, body: {} };
    default:
      return NOT_FOUND;
  }
}
