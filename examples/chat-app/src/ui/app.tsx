import { useCallback, useEffect, useState } from "react";
import { ApiError, type ConversationSummary, chatApi } from "./chat-client.js";
import { ConnectionBadge } from "./connection-badge.js";
import { ConversationList } from "./conversation-list.js";
import { ConversationView } from "./conversation-view.js";

function idFromHash(): string | null {
  const match = /^#\/c\/([\w-]+)$/.exec(location.hash);
  return match ? match[1]! : null;
}

/** The chat: conversations on the left, the open one on the right. */
export function App() {
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [openId, setOpenId] = useState<string | null>(idFromHash);
  const [loaded, setLoaded] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const { conversations: list } = await chatApi.conversations();
    setConversations(list);
    setLoaded(true);
    return list;
  }, []);

  useEffect(() => {
    void refresh().then((list) => {
      setOpenId((current) =>
        current && list.some((c) => c.id === current)
          ? current
          : (list[0]?.id ?? null),
      );
    });
  }, [refresh]);

  useEffect(() => {
    if (openId) history.replaceState(null, "", `#/c/${openId}`);
  }, [openId]);

  const create = async (open = true) => {
    const { conversation } = await chatApi.createConversation();
    setConversations((list) => [conversation, ...list]);
    if (open) setOpenId(conversation.id);
    return conversation.id;
  };

  return (
    <div className="app">
      <aside className="sidebar">
        <header>
          <h1>imagejobs chat</h1>
          <ConnectionBadge />
        </header>
        <button
          type="button"
          className="new-chat"
          onClick={() => {
            setCreateError(null);
            create().catch((failed: unknown) =>
              setCreateError(
                failed instanceof ApiError
                  ? failed.message
                  : "Something went wrong. Please try again.",
              ),
            );
          }}
        >
          + New chat
        </button>
        {createError ? (
          <p className="sidebar-error" role="alert">
            {createError}
          </p>
        ) : null}
        <ConversationList
          conversations={conversations}
          openId={openId}
          onOpen={setOpenId}
        />
      </aside>
      <main className="conversation">
        {loaded ? (
          <ConversationView
            key={openId ?? "none"}
            conversationId={openId}
            onNeedConversation={() => create(false)}
            onPosted={(id) => {
              setOpenId(id);
              void refresh();
            }}
          />
        ) : null}
      </main>
    </div>
  );
}
