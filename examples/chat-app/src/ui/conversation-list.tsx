import type { ConversationSummary } from "./chat-client.js";

/** Props of {@link ConversationList}. */
export interface ConversationListProps {
  readonly conversations: readonly ConversationSummary[];
  readonly openId: string | null;
  readonly onOpen: (id: string) => void;
}

/** The user's conversations, the latest first. */
export function ConversationList(props: ConversationListProps) {
  if (props.conversations.length === 0) {
    return <p className="hint">No conversations yet.</p>;
  }
  return (
    <nav aria-label="Conversations">
      <ul className="conversation-list">
        {props.conversations.map((conversation) => (
          <li key={conversation.id}>
            <button
              type="button"
              aria-current={conversation.id === props.openId}
              onClick={() => props.onOpen(conversation.id)}
            >
              {conversation.title}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
