import { randomUUID } from "node:crypto";
import {
  DEFAULT_METADATA_KEY,
  type ImageGenerationMetadata,
  type MemoryMessageStore,
} from "@imagejobs/core";

/** A conversation, owned by one user. */
export interface Conversation {
  /** Unguessable id. */
  readonly id: string;
  /** The owner's user id; never sent to a client. */
  readonly owner: string;
  /** A title: the first words typed, or "New chat". */
  title: string;
  /** Creation time (epoch ms). */
  readonly createdAt: number;
  /** Last message time (epoch ms). */
  updatedAt: number;
}

/** A message of a conversation, as the API sends it. */
export interface ChatMessage {
  /** Unguessable id; also the message store's id. */
  readonly id: string;
  /** The conversation. */
  readonly conversationId: string;
  /** Who wrote it. */
  readonly role: "user" | "assistant";
  /** Its text. */
  readonly text: string;
  /** Creation time (epoch ms). */
  readonly createdAt: number;
  /** The image job's state under `image_generation`, if it shows one. */
  readonly imageGeneration: ImageGenerationMetadata | null;
}

type StoredChatMessage = Omit<ChatMessage, "imageGeneration">;

/**
 * The app's own conversations and messages, in memory. Each message's
 * metadata object lives in core's message store, which the job relay
 * patches under `image_generation`.
 */
export class ConversationStore {
  readonly #conversations = new Map<string, Conversation>();
  readonly #messages = new Map<string, StoredChatMessage[]>();
  readonly #metadata: MemoryMessageStore;

  constructor(metadata: MemoryMessageStore) {
    this.#metadata = metadata;
  }

  /** Creates a conversation for `owner`. */
  create(owner: string, title = "New chat"): Conversation {
    const now = Date.now();
    const conversation = {
      id: randomUUID(),
      owner,
      title,
      createdAt: now,
      updatedAt: now,
    };
    this.#conversations.set(conversation.id, conversation);
    this.#messages.set(conversation.id, []);
    return conversation;
  }

  /** The conversation if `owner` owns it, else null (never a hint). */
  get(owner: string, conversationId: string): Conversation | null {
    const found = this.#conversations.get(conversationId);
    return found && found.owner === owner ? found : null;
  }

  /** The owner's conversations, the latest active first, at most `limit`. */
  list(owner: string, limit = Number.POSITIVE_INFINITY): Conversation[] {
    // Reversed first: of two active in the same millisecond, the newer
    // comes first (the sort is stable).
    return [...this.#conversations.values()]
      .filter((conversation) => conversation.owner === owner)
      .reverse()
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, limit);
  }

  /** How many conversations `owner` has. */
  count(owner: string): number {
    let count = 0;
    for (const conversation of this.#conversations.values()) {
      if (conversation.owner === owner) count += 1;
    }
    return count;
  }

  /** True when `messageId` is a message of `conversationId`. */
  holds(conversationId: string, messageId: string): boolean {
    return (this.#messages.get(conversationId) ?? []).some(
      (message) => message.id === messageId,
    );
  }

  /**
   * Adds a message. Its metadata is created in the message store first,
   * so a job bound to it can be submitted right after.
   */
  async add(
    conversation: Conversation,
    message: { role: "user" | "assistant"; text: string },
  ): Promise<StoredChatMessage> {
    const stored = {
      id: randomUUID(),
      conversationId: conversation.id,
      role: message.role,
      text: message.text,
      createdAt: Date.now(),
    };
    await this.#metadata.create(stored.id, {});
    this.#messages.get(conversation.id)?.push(stored);
    conversation.updatedAt = stored.createdAt;
    if (conversation.title === "New chat" && message.role === "user") {
      conversation.title = titleOf(message.text);
    }
    return stored;
  }

  /** Removes a message (a refused submit leaves nothing behind). */
  async remove(conversationId: string, messageId: string): Promise<void> {
    const messages = this.#messages.get(conversationId) ?? [];
    const index = messages.findIndex((message) => message.id === messageId);
    if (index >= 0) messages.splice(index, 1);
    await this.#metadata.delete(messageId);
  }

  /** A conversation's messages, each with its image job's metadata. */
  async messages(conversationId: string): Promise<ChatMessage[]> {
    const messages = this.#messages.get(conversationId) ?? [];
    return Promise.all(messages.map((message) => this.withMetadata(message)));
  }

  /** One message with its image job's metadata. */
  async withMetadata(message: StoredChatMessage): Promise<ChatMessage> {
    const stored = await this.#metadata.get(message.id);
    const value = stored?.metadata[DEFAULT_METADATA_KEY];
    return {
      ...message,
      imageGeneration: (value as ImageGenerationMetadata | undefined) ?? null,
    };
  }
}

function titleOf(text: string): string {
  const words = text.replace(/^\/imagine\s+/i, "").trim();
  return words.length > 40 ? `${words.slice(0, 39)}…` : words || "New chat";
}
