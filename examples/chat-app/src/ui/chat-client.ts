import type { JobSnapshot, PublicError } from "@imagejobs/core";
import type { ChatMessage } from "../server/conversation-store.js";

/** A conversation as the API lists it. */
export interface ConversationSummary {
  readonly id: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type { ChatMessage };

/** An API error, with its plain-words message. */
export class ApiError extends Error {
  readonly error: PublicError;

  constructor(error: PublicError) {
    super(error.message);
    this.error = error;
  }
}

async function call<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await response.json();
  if (!response.ok) throw new ApiError(json.error);
  return json as T;
}

/** The chat's HTTP API, as the UI calls it. */
export const chatApi = {
  conversations: () =>
    call<{ conversations: ConversationSummary[] }>("/api/conversations"),
  createConversation: () =>
    call<{ conversation: ConversationSummary }>("/api/conversations", {}),
  messages: (conversationId: string) =>
    call<{ conversation: ConversationSummary; messages: ChatMessage[] }>(
      `/api/conversations/${encodeURIComponent(conversationId)}/messages`,
    ),
  post: (conversationId: string, text: string, idempotencyKey: string) =>
    call<{ messages: ChatMessage[]; job: JobSnapshot | null }>(
      `/api/conversations/${encodeURIComponent(conversationId)}/messages`,
      { text, idempotencyKey },
    ),
  imagine: (conversationId: string, prompt: string, idempotencyKey: string) =>
    call<{ messages: ChatMessage[]; job: JobSnapshot | null }>(
      `/api/conversations/${encodeURIComponent(conversationId)}/imagine`,
      { prompt, idempotencyKey },
    ),
};
