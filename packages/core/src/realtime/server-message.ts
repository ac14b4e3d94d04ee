import { z } from "zod";
import type { PublicError } from "../errors.js";
import type { ServiceStatus } from "../events.js";
import type { JobView, QueuePosition } from "../job.js";
import type { JobSnapshot } from "../service.js";
import type { SubscriptionTarget } from "./client-message.js";

/** The answer to `authenticate`: the connection is ready. */
export interface ReadyMessage {
  /** Discriminator. */
  readonly type: "ready";
  /** The protocol version the server speaks. */
  readonly version: number;
  /** How often the server pings, in ms; 0 when it does not. */
  readonly pingIntervalMs: number;
}

/**
 * The state of a subscription's jobs, with live positions: the answer to
 * `subscribe`, and again with `resync: true` when events were lost.
 */
export interface SnapshotMessage {
  /** Discriminator. */
  readonly type: "snapshot";
  /** The subscribe request's id; null for a resync the server started. */
  readonly id: string | null;
  /** What the snapshot covers. */
  readonly target: SubscriptionTarget;
  /** Each job with its live position and ETA. */
  readonly jobs: readonly JobSnapshot[];
  /** The connection's cursor per queue when the snapshot was taken. */
  readonly cursors: Readonly<Record<string, string>>;
  /** True when the client's cursor was older than the log keeps. */
  readonly resync: boolean;
}

/** A job changed: one per version, in log order within its queue. */
export interface JobMessage {
  /** Discriminator. */
  readonly type: "job";
  /** The queue whose log holds the change. */
  readonly queue: string;
  /** The change's cursor in that queue; opaque. */
  readonly cursor: string;
  /** The job after the change. */
  readonly job: JobView;
  /** Its position right after the change, while it waits. */
  readonly position: QueuePosition | null;
}

/**
 * A waiting job's live position, pushed whenever its queue changes. Not a
 * job change: no job version; keep the one with the newest `queueVersion`.
 */
export interface PositionMessage extends QueuePosition {
  /** Discriminator. */
  readonly type: "position";
  /** The job. */
  readonly jobId: string;
  /** Its queue. */
  readonly queue: string;
  /** Estimated wait before it starts, in ms, when known. */
  readonly etaMs: number | null;
}

/** A queue's image service changed health (a breaker opened or closed). */
export interface ServiceMessage {
  /** Discriminator. */
  readonly type: "service";
  /** The queue. */
  readonly queue: string;
  /** The change's cursor in that queue; opaque. */
  readonly cursor: string;
  /** `recovering` while no backend of the queue accepts work. */
  readonly status: ServiceStatus;
}

/**
 * The connection's newest cursor in a queue, sent now and then when events
 * the client does not follow went by, so a quiet client's cursor keeps up
 * with the log and a reconnect resumes instead of resyncing. Store it like
 * the cursor of a `job` message; it changes no job.
 */
export interface CursorMessage {
  /** Discriminator. */
  readonly type: "cursor";
  /** The queue. */
  readonly queue: string;
  /** The newest cursor of that queue this connection has passed; opaque. */
  readonly cursor: string;
}

/** The answer to submit, cancel or retry. */
export interface ResultMessage {
  /** Discriminator. */
  readonly type: "result";
  /** The request's id. */
  readonly id: string;
  /** The job after the call, with its live position. */
  readonly snapshot: JobSnapshot;
}

/** The answer to unsubscribe. */
export interface AckMessage {
  /** Discriminator. */
  readonly type: "ack";
  /** The request's id. */
  readonly id: string;
}

/** A refused request, or a reason the connection is about to close. */
export interface ErrorMessage {
  /** Discriminator. */
  readonly type: "error";
  /** The request's id, or null when the frame had none. */
  readonly id: string | null;
  /** What a user may see; never an operator's detail. */
  readonly error: PublicError;
}

/** A heartbeat; answer with `pong`. */
export interface PingMessage {
  /** Discriminator. */
  readonly type: "ping";
}

/** The answer to a client's ping. */
export interface PongMessage {
  /** Discriminator. */
  readonly type: "pong";
}

/** Every message a server sends. */
export type ServerMessage =
  | ReadyMessage
  | SnapshotMessage
  | JobMessage
  | PositionMessage
  | ServiceMessage
  | CursorMessage
  | ResultMessage
  | AckMessage
  | ErrorMessage
  | PingMessage
  | PongMessage;

const positionSchema = z.looseObject({
  position: z.number(),
  queueSize: z.number(),
  queueVersion: z.number(),
});

const jobViewSchema = z.looseObject({
  id: z.string(),
  queue: z.string(),
  conversationId: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  attempt: z.number(),
  version: z.number(),
});

const jobSnapshotSchema = z.looseObject({
  job: jobViewSchema,
  position: positionSchema.nullable(),
  etaMs: z.number().nullable(),
});

const publicErrorSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().optional(),
  retryAfterMs: z.number().optional(),
});

const targetSchema = z.union([
  z.looseObject({ kind: z.literal("job"), jobId: z.string() }),
  z.looseObject({
    kind: z.literal("conversation"),
    conversationId: z.string(),
  }),
]);

/**
 * What a client checks each server message against. Loose: a newer server
 * may add fields, and a client ignores message types it does not know.
 * Error codes are read with `readPublicError` (unknown codes: INTERNAL).
 */
export const serverMessageSchema: z.ZodType = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("ready"),
    version: z.number(),
    pingIntervalMs: z.number(),
  }),
  z.looseObject({
    type: z.literal("snapshot"),
    id: z.string().nullable(),
    target: targetSchema,
    jobs: z.array(jobSnapshotSchema),
    cursors: z.record(z.string(), z.string()),
    resync: z.boolean(),
  }),
  z.looseObject({
    type: z.literal("job"),
    queue: z.string(),
    cursor: z.string(),
    job: jobViewSchema,
    position: positionSchema.nullable(),
  }),
  z.looseObject({
    type: z.literal("position"),
    jobId: z.string(),
    queue: z.string(),
    position: z.number(),
    queueSize: z.number(),
    queueVersion: z.number(),
    etaMs: z.number().nullable(),
  }),
  z.looseObject({
    type: z.literal("service"),
    queue: z.string(),
    cursor: z.string(),
    status: z.enum(["ok", "recovering"]),
  }),
  z.looseObject({
    type: z.literal("cursor"),
    queue: z.string(),
    cursor: z.string(),
  }),
  z.looseObject({
    type: z.literal("result"),
    id: z.string(),
    snapshot: jobSnapshotSchema,
  }),
  z.looseObject({ type: z.literal("ack"), id: z.string() }),
  z.looseObject({
    type: z.literal("error"),
    id: z.string().nullable(),
    error: publicErrorSchema,
  }),
  z.looseObject({ type: z.literal("ping") }),
  z.looseObject({ type: z.literal("pong") }),
]);

/**
 * Parses a server frame; null for broken JSON, an unknown type or a shape
 * that does not fit (a client skips those).
 */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const result = serverMessageSchema.safeParse(value);
  return result.success ? (result.data as unknown as ServerMessage) : null;
}
