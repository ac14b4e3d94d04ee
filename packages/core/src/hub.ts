import { EventEmitter } from "eventemitter3";
import type { JobChangedEvent, ServiceStatusEvent } from "./events.js";
import type { BreakerState } from "./ports/job-store.js";

/** A breaker changed state. */
export interface BreakerChange {
  /** The backend. */
  readonly backendId: string;
  /** Its queue. */
  readonly queue: string;
  /** State before. */
  readonly from: BreakerState;
  /** State now. */
  readonly to: BreakerState;
  /** When (epoch ms). */
  readonly at: number;
}

/** What one sweep did. */
export interface SweepReport {
  /** When it ran (epoch ms). */
  readonly at: number;
  /** Jobs re-queued after their lease ran out. */
  readonly requeued: number;
  /** Jobs failed, by code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Outbox entries relayed again. */
  readonly redriven: number;
  /** Finished jobs deleted by retention. */
  readonly purged: number;
  /** Event log entries dropped by retention. */
  readonly trimmed: number;
}

/** Typed events an app can turn into metrics. */
export interface ImageJobEventMap {
  /** A job change was published to clients. */
  job: [event: JobChangedEvent];
  /** A queue's service status was published. */
  service: [event: ServiceStatusEvent];
  /** A backend's breaker changed state. */
  breaker: [change: BreakerChange];
  /** A sweep finished. */
  sweep: [report: SweepReport];
}

/** The emitter that every part of one runtime reports to. */
export class ImageJobEvents extends EventEmitter<ImageJobEventMap> {}
