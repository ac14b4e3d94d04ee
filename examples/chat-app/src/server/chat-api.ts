import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ImageJobError,
  type ImageJobService,
  type ImageStore,
  type JobSnapshot,
} from "@imagejobs/core";
import type { ChatMessage, ConversationStore } from "./conversation-store.js";
import { notFound, readJsonBody, sendJson, textField } from "./http-json.js";

/** What every generated image uses, unless the request says otherwise. */
export interface ImageDefaults {
  /** Width and height in pixels. */
  readonly size: number;
  /** Sampling steps. */
  readonly steps: number;
}

/** Options of {@link ChatApi}. */
export interface ChatApiOptions {
  readonly conversations: ConversationStore;
  readonly service: ImageJobService;
  readonly images: ImageStore;
  readonly defaults: ImageDefaults;
  /**
   * Conversations one user may have; `GET /api/conversations` lists this
   * many, the latest active first. @default 100
   */
  readonly maxConversations?: number;
}

/** Conversations per user unless the options say otherwise. */
export const MAX_CONVERSATIONS = 100;

const IMAGINE = /^\/imagine(?:\s+|$)/i;

/**
 * The JSON API of the chat: conversations, messages, `/imagine`, and the
 * images themselves, each scoped to the request's user. Another user's
 * conversation, job or image answers 404, exactly like a missing one.
 * A user has at most {@link MAX_CONVERSATIONS} conversations; creating
 * one more answers 429 QUOTA_EXCEEDED.
 */
export class ChatApi {
  readonly #options: ChatApiOptions;

  constructor(options: ChatApiOptions) {
    this.#options = options;
  }

  /** Answers `request` if it is an API or image route; false otherwise. */
  async handle(
    user: string,
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<boolean> {
    const path = url.pathname;
    const method = request.method ?? "GET";
    const { conversations } = this.#options;

    if (path === "/api/conversations") {
      const max = this.#options.maxConversations ?? MAX_CONVERSATIONS;
      if (method === "GET") {
        sendJson(response, 200, {
          conversations: conversations.list(user, max).map(publicConversation),
        });
        return true;
      }
      if (method === "POST") {
        const body = await readJsonBody(request);
        const title =
          body.title === undefined ? undefined : textField(body, "title", 80);
        if (conversations.count(user) >= max) {
          throw new ImageJobError("QUOTA_EXCEEDED", {
            userMessage: `You have ${max} conversations, the most one user can have here.`,
            detail: `user has ${max} conversations`,
          });
        }
        const created = conversations.create(user, title);
        sendJson(response, 201, { conversation: publicConversation(created) });
        return true;
      }
    }

    const match = /^\/api\/conversations\/([^/]+)\/(messages|imagine)$/.exec(
      path,
    );
    if (match) {
      const conversation = conversations.get(user, match[1]!);
      if (!conversation) throw notFound(`conversation ${match[1]}`);
      if (match[2] === "messages" && method === "GET") {
        sendJson(response, 200, {
          conversation: publicConversation(conversation),
          messages: await conversations.messages(conversation.id),
        });
        return true;
      }
      if (method === "POST") {
        const body = await readJsonBody(request);
        const key = optionalKey(body);
        const result =
          match[2] === "imagine"
            ? await this.#imagine(user, conversation.id, {
                prompt: textField(body, "prompt", 1000),
                key,
              })
            : await this.#post(user, conversation.id, {
                text: textField(body, "text", 2000),
                key,
              });
        sendJson(response, 201, result);
        return true;
      }
    }

    if (path.startsWith("/images/") && method === "GET") {
      await this.#image(user, decodeURIComponent(path.slice(8)), response);
      return true;
    }
    return false;
  }

  /** A plain message, or `/imagine <prompt>`. */
  async #post(
    user: string,
    conversationId: string,
    input: { text: string; key: string | undefined },
  ): Promise<{ messages: ChatMessage[]; job: JobSnapshot | null }> {
    if (IMAGINE.test(input.text)) {
      const prompt = input.text.replace(IMAGINE, "").trim();
      if (prompt === "") {
        throw new ImageJobError("INVALID_REQUEST", {
          userMessage:
            "Write what to draw after /imagine, for example: /imagine a red fox in the snow",
          fields: [{ field: "text", message: "needs a prompt after /imagine" }],
        });
      }
      return this.#imagine(user, conversationId, { ...input, prompt });
    }

    const { conversations } = this.#options;
    const conversation = conversations.get(user, conversationId)!;
    const said = await conversations.add(conversation, {
      role: "user",
      text: input.text,
    });
    const reply = await conversations.add(conversation, {
      role: "assistant",
      text: "I make images: type /imagine and what you want to see.",
    });
    return {
      messages: await Promise.all(
        [said, reply].map((m) => conversations.withMetadata(m)),
      ),
      job: null,
    };
  }

  /**
   * Creates the user's message and the assistant message that shows the
   * image, then submits the job bound to it. A refused submit removes both.
   */
  async #imagine(
    user: string,
    conversationId: string,
    input: { prompt: string; text?: string; key: string | undefined },
  ): Promise<{ messages: ChatMessage[]; job: JobSnapshot }> {
    const { conversations, service, defaults } = this.#options;
    const conversation = conversations.get(user, conversationId)!;
    const said = await conversations.add(conversation, {
      role: "user",
      text: input.text ?? `/imagine ${input.prompt}`,
    });
    const shows = await conversations.add(conversation, {
      role: "assistant",
      text: input.prompt,
    });

    let snapshot: JobSnapshot;
    try {
      snapshot = await service.submit(
        { id: user },
        {
          conversationId,
          messageId: shows.id,
          request: {
            prompt: input.prompt,
            width: defaults.size,
            height: defaults.size,
            steps: defaults.steps,
          },
          ...(input.key ? { idempotencyKey: input.key } : {}),
        },
      );
    } catch (error) {
      await conversations.remove(conversationId, shows.id);
      await conversations.remove(conversationId, said.id);
      throw error;
    }
    if (snapshot.job.messageId !== shows.id) {
      // A resent request: the job exists already, bound to the first pair.
      await conversations.remove(conversationId, shows.id);
      await conversations.remove(conversationId, said.id);
      return { messages: [], job: snapshot };
    }
    return {
      messages: await Promise.all(
        [said, shows].map((m) => conversations.withMetadata(m)),
      ),
      job: snapshot,
    };
  }

  /** An image, only for the user whose job made it. */
  async #image(
    user: string,
    key: string,
    response: ServerResponse,
  ): Promise<void> {
    const jobId = key.split("/")[0] ?? "";
    let owned = false;
    try {
      const { job } = await this.#options.service.get({ id: user }, jobId);
      owned = job.result?.images.some((image) => image.key === key) ?? false;
    } catch {
      owned = false;
    }
    const image = owned ? await this.#options.images.get(key) : null;
    if (!image) throw notFound(`image ${key}`);

    response.writeHead(200, {
      "content-type": image.contentType,
      "content-length": image.data.byteLength,
      "cache-control": "private, max-age=31536000, immutable",
    });
    response.end(image.data);
  }
}

function publicConversation(conversation: {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
}) {
  const { id, title, createdAt, updatedAt } = conversation;
  return { id, title, createdAt, updatedAt };
}

function optionalKey(body: Record<string, unknown>): string | undefined {
  if (body.idempotencyKey === undefined) return undefined;
  return textField(body, "idempotencyKey", 200);
}
