import { type FieldIssue, ImageJobError } from "@imagejobs/core";
import type { HttpResponse, TransportError } from "./http-transport.js";

const OOM = /out of memory|OutOfMemoryError/i;

/**
 * Forge 500 messages that come from the request or the operator's settings
 * (an unknown upscaler or checkpoint, missing FLUX modules, a bad image),
 * not from an unhealthy server.
 */
const REJECTED = [
  /could not find upscaler/i,
  /could not find checkpoint/i,
  /model '.*' not found/i,
  /do not have (VAE|CLIP|T5) state dict/i,
  /NoneType/i,
  /Invalid encoded image/i,
  /Requests not allowed/i,
];

/** The readable parts of any Forge or A1111 error body. */
interface ErrorBody {
  readonly error?: string;
  readonly message?: string;
  readonly fields: FieldIssue[];
}

function readBody(text: string): ErrorBody | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const body = parsed as Record<string, unknown>;
  const fields: FieldIssue[] = [];
  let message: string | undefined;
  // Order from FORGE-API.md §9.1: detail as array, message, errors, detail.
  if (Array.isArray(body.detail)) {
    for (const item of body.detail as Record<string, unknown>[]) {
      const loc = Array.isArray(item?.loc) ? item.loc : [];
      const field = loc.filter((part) => part !== "body").join(".");
      fields.push({
        field: field || "(request)",
        message: String(item?.msg ?? "is not valid"),
      });
    }
    message = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  } else if (typeof body.message === "string" && body.message) {
    message = body.message;
  } else if (typeof body.errors === "string" && body.errors) {
    message = body.errors;
  } else if (typeof body.detail === "string") {
    message = body.detail;
  }
  return {
    ...(typeof body.error === "string" ? { error: body.error } : {}),
    ...(message === undefined ? {} : { message }),
    fields,
  };
}

/**
 * Turns a Forge (or A1111) error answer into an ImageJobError. Out of memory
 * and rejected parameters are never server faults, even as a 500; a proxy's
 * HTML 502/503/504 means the outcome is unknown.
 */
export function parseForgeError(
  response: HttpResponse,
  route: string,
): ImageJobError {
  const { status } = response;
  const body = readBody(response.text);
  const text = body?.message ?? response.text.slice(0, 200);
  const detail = `Forge ${route} answered ${status}: ${text}`;

  if (!body) {
    const gateway = status === 502 || status === 503 || status === 504;
    return new ImageJobError(gateway ? "GPU_UNAVAILABLE" : "GPU_ERROR", {
      detail: gateway
        ? `${detail} (not JSON: a proxy in front of Forge; the job may still run)`
        : detail,
      retryable: true,
      serverFault: status !== 504,
      outcomeUnknown: gateway,
    });
  }
  if (OOM.test(`${body.error ?? ""} ${text}`)) {
    return new ImageJobError("GPU_OUT_OF_MEMORY", {
      detail,
      serverFault: false,
    });
  }
  if (status === 401 || status === 403) {
    return new ImageJobError("GPU_UNAVAILABLE", {
      detail: `${detail} (check the Forge credentials)`,
      retryable: false,
      serverFault: true,
    });
  }
  if (status === 422 || status === 400) {
    return new ImageJobError("GPU_REJECTED", {
      detail,
      fields: body.fields,
      serverFault: false,
    });
  }
  if (status === 404 && text === "Not Found") {
    return new ImageJobError("GPU_ERROR", {
      detail: `${detail} (is Forge started with --api?)`,
      retryable: false,
      serverFault: true,
    });
  }
  if (status === 404 || REJECTED.some((pattern) => pattern.test(text))) {
    return new ImageJobError("GPU_REJECTED", { detail, serverFault: false });
  }
  return new ImageJobError("GPU_ERROR", { detail, serverFault: true });
}

/**
 * Turns a failure below HTTP into an ImageJobError. Refused: the server is
 * down, nothing ran. Reset or deadline passed: the outcome is unknown.
 */
export function parseTransportError(
  error: TransportError,
  route: string,
): ImageJobError {
  const detail = `Forge ${route}: ${error.message}`;
  switch (error.kind) {
    case "refused":
      return new ImageJobError("GPU_UNAVAILABLE", {
        detail,
        cause: error,
        serverFault: true,
      });
    case "aborted":
      return new ImageJobError("CANCELLED", { detail, cause: error });
    default:
      return new ImageJobError(
        error.kind === "timeout" ? "GPU_ERROR" : "GPU_UNAVAILABLE",
        {
          detail,
          cause: error,
          retryable: true,
          serverFault: true,
          outcomeUnknown: true,
        },
      );
  }
}
