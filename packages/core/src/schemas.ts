import { z } from "zod";
import { ERROR_CODES, type FieldIssue, type PublicError } from "./errors.js";
import type {
  ClientEvent,
  JobChangedEvent,
  ServiceStatusEvent,
} from "./events.js";
import type {
  Job,
  JobError,
  JobImage,
  JobProgress,
  JobResult,
  JobStatus,
  JobView,
  QueuePosition,
} from "./job.js";
import type { ImageRequest } from "./request.js";

/**
 * zod schemas of the job, its parts, errors and events: what adapters check
 * rows against when they read them back, and what clients check events
 * against. They match the TypeScript types of the same names.
 */

/** Schema of a {@link JobStatus}. */
export const jobStatusSchema: z.ZodType<JobStatus> = z.enum([
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
]);

const fieldIssueObject = z.strictObject({
  field: z.string(),
  message: z.string(),
});

/** Schema of a {@link FieldIssue}. */
export const fieldIssueSchema: z.ZodType<FieldIssue> = fieldIssueObject;

const publicErrorObject = z.strictObject({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
  retryAfterMs: z.number().nonnegative().optional(),
  fields: z.array(fieldIssueObject).optional(),
});

/** Schema of a {@link PublicError}. */
export const publicErrorSchema: z.ZodType<PublicError> = publicErrorObject;

const jobErrorObject = publicErrorObject.extend({
  detail: z.string().optional(),
});

/** Schema of a {@link JobError}: a public error with the operator detail. */
export const jobErrorSchema: z.ZodType<JobError> = jobErrorObject;

const jobProgressObject = z.strictObject({
  phase: z.enum(["waiting", "loading", "sampling"]),
  fraction: z.number().min(0).max(1),
  step: z.number().int().nonnegative().nullable(),
  steps: z.number().int().nonnegative().nullable(),
  etaMs: z.number().nonnegative().nullable(),
});

/** Schema of a {@link JobProgress}. */
export const jobProgressSchema: z.ZodType<JobProgress> = jobProgressObject;

const jobImageObject = z.strictObject({
  key: z.string(),
  url: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seed: z.number().int(),
});

/** Schema of a {@link JobImage}. */
export const jobImageSchema: z.ZodType<JobImage> = jobImageObject;

const jobResultObject = z.strictObject({
  images: z.array(jobImageObject),
  info: z.record(z.string(), z.unknown()),
});

/** Schema of a {@link JobResult}. */
export const jobResultSchema: z.ZodType<JobResult> = jobResultObject;

const storedRequestObject = z.strictObject({
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

/** Schema of a stored {@link ImageRequest} (validated, seed resolved). */
export const storedRequestSchema: z.ZodType<ImageRequest> = storedRequestObject;

const time = z.number().int();

const jobViewObject = z.strictObject({
  id: z.string(),
  queue: z.string(),
  conversationId: z.string(),
  messageId: z.string().nullable(),
  request: storedRequestObject,
  ticket: z.number().int().positive(),
  status: jobStatusSchema,
  attempt: z.number().int().positive(),
  progress: jobProgressObject.nullable(),
  result: jobResultObject.nullable(),
  error: publicErrorObject.nullable(),
  retryOf: z.string().nullable(),
  queuedAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  version: z.number().int().positive(),
});

/** Schema of a {@link JobView}: a job as its owner's client sees it. */
export const jobViewSchema: z.ZodType<JobView> = jobViewObject;

const jobObject = jobViewObject.extend({
  owner: z.string(),
  priority: z.number().int(),
  maxAttempts: z.number().int().positive(),
  fencingToken: z.string().nullable(),
  leaseExpiresAt: time.nullable(),
  workerId: z.string().nullable(),
  backendId: z.string().nullable(),
  progressAt: time.nullable(),
  error: jobErrorObject.nullable(),
  updatedAt: time,
});

/** Schema of a {@link Job} as a store holds it. */
export const jobSchema: z.ZodType<Job> = jobObject;

const queuePositionObject = z.strictObject({
  position: z.number().int().positive(),
  queueSize: z.number().int().nonnegative(),
  queueVersion: z.number().int().nonnegative(),
});

/** Schema of a {@link QueuePosition}. */
export const queuePositionSchema: z.ZodType<QueuePosition> =
  queuePositionObject;

const jobChangedEventObject = z.strictObject({
  type: z.literal("job"),
  job: jobViewObject,
  owner: z.string(),
  position: queuePositionObject.nullable(),
});

/** Schema of a {@link JobChangedEvent}. */
export const jobChangedEventSchema: z.ZodType<JobChangedEvent> =
  jobChangedEventObject;

const serviceStatusEventObject = z.strictObject({
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

/** Schema of a {@link ServiceStatusEvent}. */
export const serviceStatusEventSchema: z.ZodType<ServiceStatusEvent> =
  serviceStatusEventObject;

/** Schema of a {@link ClientEvent}. */
export const clientEventSchema: z.ZodType<ClientEvent> = z.discriminatedUnion(
  "type",
  [jobChangedEventObject, serviceStatusEventObject],
);
