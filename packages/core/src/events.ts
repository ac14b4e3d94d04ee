import type { JobView, QueuePosition } from "./job.js";
import type { BreakerState } from "./ports/job-store.js";

/** A job changed; one such event per change, carrying the job's version. */
export interface JobChangedEvent {
  /** Discriminator. */
  readonly type: "job";
  /** The job after the change. */
  readonly job: JobView;
  /** The owner, for routing; never sent to other users. */
  readonly owner: string;
  /** The job's position right after the change, when it waits. */
  readonly position: QueuePosition | null;
}

/** The health of a queue's image service as users should hear of it. */
export type ServiceStatus = "ok" | "recovering";

/** A queue's service status changed (a breaker opened or closed). */
export interface ServiceStatusEvent {
  /** Discriminator. */
  readonly type: "service";
  /** The queue. */
  readonly queue: string;
  /** `recovering` while no backend of the queue accepts work. */
  readonly status: ServiceStatus;
  /** Every backend's breaker state. */
  readonly backends: readonly {
    readonly id: string;
    readonly breaker: BreakerState;
  }[];
  /** When it changed (epoch ms). */
  readonly at: number;
}

/** What a queue's event log holds and clients receive. */
export type ClientEvent = JobChangedEvent | ServiceStatusEvent;
