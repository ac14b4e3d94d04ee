import { z } from "zod";
import { ImageJobError } from "../errors.js";
import { fieldIssues } from "../request.js";

const requestId = z.string().min(1).max(100);
const entityId = z.string().trim().min(1).max(200);

/**
 * Cursors by queue name, as the server last sent them. Opaque strings: a
 * client stores and returns them, never compares or parses them.
 */
export const cursorsSchema = z
  .record(z.string().min(1).max(200), z.string().min(1).max(500))
  .refine((cursors) => Object.keys(cursors).length <= 64, {
    message: "must name at most 64 queues",
  });

/** What a subscription follows: one job, or every job of a conversation. */
export const subscriptionTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("job"), jobId: entityId }),
  z.strictObject({ kind: z.literal("conversation"), conversationId: entityId }),
]);

/** See {@link subscriptionTargetSchema}. */
export type SubscriptionTarget = z.infer<typeof subscriptionTargetSchema>;

/** The first message: the protocol version and, when needed, a token. */
export const authenticateMessageSchema = z.strictObject({
  type: z.literal("authenticate"),
  version: z.number().int(),
  token: z.string().max(8192).optional(),
});

/**
 * Follows a target. With `cursors`, the connection resumes each queue after
 * its cursor; a cursor older than the log keeps yields a resync snapshot.
 */
export const subscribeMessageSchema = z.strictObject({
  type: z.literal("subscribe"),
  id: requestId,
  target: subscriptionTargetSchema,
  cursors: cursorsSchema.optional(),
});

/** Stops following a target. */
export const unsubscribeMessageSchema = z.strictObject({
  type: z.literal("unsubscribe"),
  id: requestId,
  target: subscriptionTargetSchema,
});

/** Submits a job; `input` is checked by the service (unknown fields refused). */
export const submitMessageSchema = z.strictObject({
  type: z.literal("submit"),
  id: requestId,
  input: z.record(z.string(), z.unknown()),
});

/** Cancels a queued or running job. */
export const cancelMessageSchema = z.strictObject({
  type: z.literal("cancel"),
  id: requestId,
  jobId: entityId,
});

/** Retries a failed or cancelled job as a new job. */
export const retryMessageSchema = z.strictObject({
  type: z.literal("retry"),
  id: requestId,
  jobId: entityId,
});

/** A heartbeat either side may send; the other answers `pong`. */
export const pingMessageSchema = z.strictObject({ type: z.literal("ping") });

/** The answer to a heartbeat. */
export const pongMessageSchema = z.strictObject({ type: z.literal("pong") });

/** Every message a client may send. */
export const clientMessageSchema = z.discriminatedUnion("type", [
  authenticateMessageSchema,
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  submitMessageSchema,
  cancelMessageSchema,
  retryMessageSchema,
  pingMessageSchema,
  pongMessageSchema,
]);

/** A message from a client, after validation. */
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** What {@link parseClientMessage} found. */
export type ParsedClientMessage =
  | { readonly ok: true; readonly message: ClientMessage }
  | {
      readonly ok: false;
      /** INVALID_REQUEST naming each field's problem. */
      readonly error: ImageJobError;
      /** The request id, when the frame carried a usable one. */
      readonly id: string | null;
    };

/** The UTF-8 size of `text` in bytes, without copying it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Parses one text frame from a client. Never throws: a frame that is too
 * large, not JSON, or not a valid message gives INVALID_REQUEST naming the
 * field, with the request id when one can be read.
 */
export function parseClientMessage(
  text: string,
  maxBytes: number,
): ParsedClientMessage {
  if (typeof text !== "string") {
    return invalid(null, "(frame)", "must be a text frame");
  }
  if (text.length > maxBytes || utf8Bytes(text) > maxBytes) {
    return invalid(null, "(frame)", `is larger than ${maxBytes} bytes`);
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(null, "(frame)", "is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid(null, "(frame)", "must be a JSON object");
  }

  const raw = (value as { id?: unknown }).id;
  const id = requestId.safeParse(raw).success ? (raw as string) : null;
  const result = clientMessageSchema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, message: result.data };
  const fields = fieldIssues(result.error);
  // Only a problem inside the image request is the user's to fix.
  const settings = fields.every((f) => f.field.startsWith("input.request"));
  return {
    ok: false,
    id,
    error: new ImageJobError("INVALID_REQUEST", {
      fields,
      detail: fields.map((f) => `${f.field}: ${f.message}`).join("; "),
      ...(settings ? {} : { userMessage: UNREADABLE }),
    }),
  };
}

/** What a user hears when the app, not the user, sent something wrong. */
const UNREADABLE =
  "The app sent a message the image service could not read. Reloading the page should fix it.";

function invalid(
  id: string | null,
  field: string,
  message: string,
): ParsedClientMessage {
  return {
    ok: false,
    id,
    error: new ImageJobError("INVALID_REQUEST", {
      fields: [{ field, message }],
      detail: `${field} ${message}`,
      userMessage: UNREADABLE,
    }),
  };
}
