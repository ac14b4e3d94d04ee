import { z } from "zod";
import { ERROR_CODES } from "./errors.js";

/**
 * zod schemas of the job, its parts, errors and events: what adapters check
 * rows against when they read them back, and what clients check events
 * against. They match the TypeScript types of the same names.
 */

/** Schema of a {@link JobStatus}. */
export const jobStatusSchema = z.enum([
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
]);

/** Schema of a {@link FieldIssue}. */
export const fieldIssueSchema = z.strictObject({
  field: z.string(),
  message: z.string(),
});

/** Schema of a {@link PublicError}. */
export const publicErrorSchema = z.strictObject({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
  retryAfterMs: z.number().nonnegative().optional(),
  fields: z.array(fieldIssueSchema).optional(),
});

/** Schema of a {@link JobError}: a public error with the operator detail. */
export const jobErrorSchema = publicErrorSchema.extend({
  detail: z.string().optional(),
});

/** Schema of a {@link JobProgress}. */
export const jobProgressSchema = z.strictObject({
  phase: z.enum(["waiting", "loading", "sampling"]),
  fraction: z.number().min(0).max(1),
  step: z.number().int().nonnegative().nullable(),
  steps: z.number().int().nonnegative().nullable(),
  etaMs: z.number().nonnegative().nullable(),
});

/** Schema of a {@link JobImage}. */
export const jobImageSchema = z.strictObject({
  key: z.string(),
  url: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seed: z.number().int(),
});

/** Schema of a {@link JobResult}. */
export const jobResultSchema = z.strictObject({
  images: z.array(jobImageSchema),
  info: z.record(z.string(), z.unknown()),
});

/** Schema of a stored {@link ImageRequest} (validated, seed resolved). */
export const storedRequestSchema = z.strictObject({
  prompt: z.string(),
  negativePrompt: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  steps: z.number().int().positive(),
  cfgScale: z.number(),
  seed: z.number().int(),
  batchSize: z.number().int().positive(),
  model: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

const time = z.number().int();

/** Schema of a {@link JobView}: a job as its owner's client sees it. */
export const jobViewSchema = z.strictObject({
  id: z.string(),
  queue: z.string(),
  conversationId: z.string(),
  messageId: z.string().nullable(),
  request: storedRequestSchema,
  ticket: z.number().int().positive(),
  status: jobStatusSchema,
  attempt: z.number().int().positive(),
  progress: jobProgressSchema.nullable(),
  result: jobResultSchema.nullable(),
  error: publicErrorSchema.nullable(),
  retryOf: z.string().nullable(),
  queuedAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  version: z.number().int().positive(),
});

/** Schema of a {@link Job} as a store holds it. */
export const jobSchema = jobViewSchema.extend({
  owner: z.string(),
  priority: z.number().int(),
  maxAttempts: z.number().int().positive(),
  fencingToken: z.string().nullable(),
  leaseExpiresAt: time.nullable(),
  workerId: z.string().nullable(),
  backendId: z.string().nullable(),
  progressAt: time.nullable(),
  error: jobErrorSchema.nullable(),
  updatedAt: time,
});

/** Schema of a {@link QueuePosition}. */
export const queuePositionSchema = z.strictObject({
  position: z.number().int().positive(),
  queueSize: z.number().int().nonnegative(),
  queueVersion: z.number().int().nonnegative(),
});

/** Schema of a {@link JobChangedEvent}. */
export const jobChangedEventSchema = z.strictObject({
  type: z.literal("job"),
  job: jobViewSchema,
  owner: z.string(),
  position: queuePositionSchema.nullable(),
});

/** Schema of a {@link ServiceStatusEvent}. */
export const serviceStatusEventSchema = z.strictObject({
  type: z.literal("service"),
  queue: z.string(),
  status: z.enum(["ok", "recovering"]),
  backends: z.array(
    z.strictObject({
      id: z.string(),
      breaker: z.enum(["closed", "open", "half-open"]),
    }),
  ),
  at: time,
});

/** Schema of a {@link ClientEvent}. */
export const clientEventSchema = z.discriminatedUnion("type", [
  jobChangedEventSchema,
  serviceStatusEventSchema,
]);
