import { mergePatch } from "../merge-patch.js";
import {
  type ImageGenerationMetadata,
  shouldApplyMetadata,
} from "../message-metadata.js";
import type {
  MessageStore,
  PatchOutcome,
  StoredMessage,
} from "../ports/message-store.js";

/**
 * Chat messages in one process's memory, for the embedded default and tests.
 * Each patch reads, checks and writes without awaiting, so it is atomic.
 */
export class MemoryMessageStore implements MessageStore {
  readonly #messages = new Map<string, Record<string, unknown>>();

  /** Creates (or replaces) a message with the given metadata. */
  async create(
    messageId: string,
    metadata: Record<string, unknown> = {},
  ): Promise<void> {
    this.#messages.set(messageId, structuredClone(metadata));
  }

  /** Deletes a message; later patches for it are `missing`. */
  async delete(messageId: string): Promise<void> {
    this.#messages.delete(messageId);
  }

  async patch(input: {
    messageId: string;
    key: string;
    value: ImageGenerationMetadata;
  }): Promise<PatchOutcome> {
    const metadata = this.#messages.get(input.messageId);
    if (!metadata) return "missing";
    if (!shouldApplyMetadata(metadata[input.key], input.value)) return "stale";

    metadata[input.key] = mergePatch(metadata[input.key], input.value);
    return "applied";
  }

  async merge(
    messageId: string,
    patch: Record<string, unknown>,
  ): Promise<boolean> {
    const metadata = this.#messages.get(messageId);
    if (!metadata) return false;
    this.#messages.set(
      messageId,
      mergePatch(metadata, patch) as Record<string, unknown>,
    );
    return true;
  }

  async get(messageId: string): Promise<StoredMessage | null> {
    const metadata = this.#messages.get(messageId);
    if (!metadata) return null;
    return { id: messageId, metadata: structuredClone(metadata) };
  }
}
