import type { IncomingMessage, ServerResponse } from "node:http";
import { ImageJobError } from "@imagejobs/core";

/** Largest JSON body accepted, in bytes. */
export const MAX_BODY_BYTES = 16_384;

/** HTTP status of each error code the API answers with. */
const STATUS: Partial<Record<string, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  IDEMPOTENCY_CONFLICT: 409,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  QUEUE_FULL: 503,
};

/** Sends `body` as JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

/** Sends an error as `{ error: { code, message, fields? } }`. */
export function sendError(response: ServerResponse, thrown: unknown): void {
  const error = ImageJobError.from(thrown);
  const status = STATUS[error.code] ?? 500;
  if (status === 500) console.error(thrown);
  const headers =
    error.retryAfterMs === undefined
      ? {}
      : { "retry-after": String(Math.ceil(error.retryAfterMs / 1000)) };
  for (const [name, value] of Object.entries(headers)) {
    response.setHeader(name, value);
  }
  sendJson(response, status, { error: error.toPublic() });
}

/** An INVALID_REQUEST naming one field. */
export function invalid(field: string, message: string): ImageJobError {
  return new ImageJobError("INVALID_REQUEST", {
    userMessage: `${field} ${message}.`,
    fields: [{ field, message }],
    detail: `${field} ${message}`,
  });
}

/** NOT_FOUND, for anything missing or another user's. */
export function notFound(what: string): ImageJobError {
  return new ImageJobError("NOT_FOUND", { detail: what });
}

/** Reads a JSON object body; INVALID_REQUEST when too large or not JSON. */
export async function readJsonBody(
  request: IncomingMessage,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw invalid("(body)", `is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("(body)", "is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("(body)", "must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A string field of 1 to `max` characters after trimming. */
export function textField(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string {
  const value = body[field];
  if (typeof value !== "string") throw invalid(field, "must be a string");
  const text = value.trim();
  if (text.length === 0) throw invalid(field, "must not be empty");
  if (text.length > max) {
    throw invalid(field, `must be at most ${max} characters`);
  }
  return text;
}
