import { useEffect, useState } from "react";
import { ApiError, type ChatMessage, chatApi } from "./chat-client.js";
import { Composer } from "./composer.js";
import { MessageList } from "./message-list.js";

/** Props of {@link ConversationView}. */
export interface ConversationViewProps {
  /** The open conversation; null before the first message. */
  readonly conversationId: string | null;
  /** Creates a conversation for the first message; resolves with its id. */
  readonly onNeedConversation: () => Promise<string>;
  /** Called after a message was posted to conversation `id`. */
  readonly onPosted: (id: string) => void;
}

/** One conversation's messages and the composer. */
export function ConversationView(props: ConversationViewProps) {
  const { conversationId } = props;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!conversationId) return;
    let live = true;
    chatApi.messages(conversationId).then(
      (found) => live && setMessages(found.messages),
      (failed: unknown) => live && setError(messageOf(failed)),
    );
    return () => {
      live = false;
    };
  }, [conversationId]);

  const send = async (
    kind: "text" | "image",
    text: string,
    key: string,
  ): Promise<void> => {
    setError(null);
    try {
      const id = conversationId ?? (await props.onNeedConversation());
      const posted =
        kind === "image"
          ? await chatApi.imagine(id, text, key)
          : await chatApi.post(id, text, key);
      setMessages((held) => [...held, ...posted.messages]);
      props.onPosted(id);
    } catch (failed) {
      setError(messageOf(failed));
      throw failed;
    }
  };

  return (
    <>
      {conversationId ? (
        <MessageList conversationId={conversationId} messages={messages} />
      ) : (
        <div className="empty">
          <p>
            Type <code>/imagine</code> and what you want to see, or write a
            prompt and press the image button.
          </p>
        </div>
      )}
      {error ? (
        <p className="composer-error" role="alert">
          {error}
        </p>
      ) : null}
      <Composer onSend={send} />
    </>
  );
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Please try again.";
}
