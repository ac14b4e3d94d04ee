import type { UserMessages } from "./errors.js";
import type { ImageJobEvents } from "./hub.js";
import type { Clock } from "./ports/clock.js";
import type { EventLog } from "./ports/event-log.js";
import type { ImageStore } from "./ports/image-store.js";
import type { ClaimOrder, JobStore } from "./ports/job-store.js";
import type { Logger } from "./ports/logger.js";
import type { MessageStore } from "./ports/message-store.js";
import type { Relay } from "./relay.js";

/** The stores one runtime works on. */
export interface Stores {
  /** Jobs, tickets, leases and the outbox. */
  readonly jobs: JobStore;
  /** The app's chat messages. */
  readonly messages: MessageStore;
  /** The client event log. */
  readonly events: EventLog;
  /** Generated images. */
  readonly images: ImageStore;
}

/** What the service, workers and sweeper of one runtime share. */
export interface RuntimeContext extends Stores {
  /** Time. */
  readonly clock: Clock;
  /** Logger. */
  readonly logger: Logger;
  /** Local typed events. */
  readonly hub: ImageJobEvents;
  /** The relay from outbox to message and event log. */
  readonly relay: Relay;
  /** The claim order of every queue. */
  readonly order: ClaimOrder;
  /** Per-code replacements of user messages, applied wherever a job fails. */
  readonly userMessages?: UserMessages;
}
