import type { JobChangedEvent, ServiceStatusEvent } from "./events.js";
import type { ImageJobEvents } from "./hub.js";
import { toJobView } from "./job.js";
import { DEFAULT_METADATA_KEY, jobMetadata } from "./message-metadata.js";
import type { Clock } from "./ports/clock.js";
import type { EventLog } from "./ports/event-log.js";
import type { ClaimOrder, JobChange, JobStore } from "./ports/job-store.js";
import type { Logger } from "./ports/logger.js";
import type { MessageStore } from "./ports/message-store.js";

/** What the relay needs. */
export interface RelayOptions {
  /** The job store (outbox). */
  readonly jobs: JobStore;
  /** The chat messages. */
  readonly messages: MessageStore;
  /** The event log clients read. */
  readonly events: EventLog;
  /** Local typed events. */
  readonly hub: ImageJobEvents;
  /** Time. */
  readonly clock: Clock;
  /** Logger. */
  readonly logger: Logger;
  /** The claim order, for positions at each change. */
  readonly order: ClaimOrder;
  /** The metadata key. @default "image_generation" */
  readonly metadataKey?: string;
}

/**
 * Moves each job change from the outbox to the chat message, then to the
 * event log, then acks it. The message is patched before the event is
 * visible, and the event is appended once per (job, version), so a relay
 * that runs twice (a crash, a re-drive) shows each change once.
 */
export class Relay {
  readonly #options: RelayOptions;
  readonly #key: string;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(options: RelayOptions) {
    this.#options = options;
    this.#key = options.metadataKey ?? DEFAULT_METADATA_KEY;
  }

  /**
   * Relays a change. Changes of one job are relayed in order; the returned
   * promise settles once this one is visible (or failed and left to the
   * sweeper's re-drive).
   */
  publish(change: JobChange): Promise<void> {
    const jobId = change.job.id;
    const previous = this.#chains.get(jobId) ?? Promise.resolve();
    const current = previous.then(() => this.#relay(change));
    this.#chains.set(jobId, current);
    void current.finally(() => {
      if (this.#chains.get(jobId) === current) this.#chains.delete(jobId);
    });
    return current;
  }

  /** Resolves once every change handed to this relay so far is relayed. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) {
      await Promise.all(this.#chains.values());
    }
  }

  /** Appends a service status event to a queue's log. */
  async publishService(event: ServiceStatusEvent): Promise<void> {
    const { events, hub } = this.#options;
    const states = event.backends.map((b) => `${b.id}=${b.breaker}`).join();
    await events.append({
      queue: event.queue,
      event,
      dedupeKey: `service:${event.at}:${states}`,
      now: event.at,
    });
    hub.emit("service", event);
  }

  async #relay(change: JobChange): Promise<void> {
    const { jobs, messages, events, hub, logger, order } = this.#options;
    const { job } = change;
    try {
      const position =
        job.status === "queued" ? await jobs.position(job.id, order) : null;
      if (job.messageId !== null) {
        const outcome = await messages.patch({
          messageId: job.messageId,
          key: this.#key,
          value: jobMetadata(job, position),
        });
        if (outcome === "missing") {
          logger.warn(
            { jobId: job.id, messageId: job.messageId },
            "message of job no longer exists; job goes on",
          );
        }
      }
      const event: JobChangedEvent = {
        type: "job",
        job: toJobView(job),
        owner: job.owner,
        position,
      };
      const { duplicate } = await events.append({
        queue: job.queue,
        event,
        dedupeKey: `job:${job.id}:${job.version}`,
        now: change.at,
      });
      await jobs.ackChange(change.id);
      if (!duplicate) hub.emit("job", event);
    } catch (error) {
      logger.error(
        { jobId: job.id, version: job.version, err: error },
        "relay failed; the sweeper will re-drive it",
      );
    }
  }
}
