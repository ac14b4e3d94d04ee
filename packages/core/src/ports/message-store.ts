import type { ImageGenerationMetadata } from "../message-metadata.js";

/** A chat message as the message store reads it. */
export interface StoredMessage {
  /** Message id. */
  readonly id: string;
  /** The message's metadata object (the JSON column). */
  readonly metadata: Record<string, unknown>;
}

/** What a metadata patch did. */
export type PatchOutcome = "applied" | "stale" | "missing";

/**
 * The app's chat messages. `patch` is one atomic step: it reads the value
 * under `key`, applies {@link shouldApplyMetadata}, then RFC 7396-merges the
 * patch into it, so writers patching other keys at the same time all land.
 */
export interface MessageStore {
  /** Merge-patches `metadata[key]` if the guard allows it. */
  patch(input: {
    readonly messageId: string;
    readonly key: string;
    readonly value: ImageGenerationMetadata;
  }): Promise<PatchOutcome>;

  /**
   * RFC 7396-merges `patch` into the whole metadata object, unguarded: the
   * app's other writers use it for keys of their own. False when the message
   * does not exist.
   */
  merge(messageId: string, patch: Record<string, unknown>): Promise<boolean>;

  /** Reads one message, or null. */
  get(messageId: string): Promise<StoredMessage | null>;
}
