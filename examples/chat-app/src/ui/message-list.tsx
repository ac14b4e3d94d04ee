import { useConversationImageJobs } from "@imagejobs/react";
import { useEffect, useRef } from "react";
import type { ChatMessage } from "./chat-client.js";
import { ImageMessage } from "./image-message.js";

/** Props of {@link MessageList}. */
export interface MessageListProps {
  readonly conversationId: string;
  readonly messages: readonly ChatMessage[];
}

/**
 * A conversation's messages. An assistant message bound to a job shows the
 * newest job made for it (a retry makes a new one for the same message).
 */
export function MessageList(props: MessageListProps) {
  const jobs = useConversationImageJobs(props.conversationId);
  const end = useRef<HTMLDivElement>(null);
  const count = props.messages.length;

  useEffect(() => {
    if (count > 0) end.current?.scrollIntoView({ block: "end" });
  }, [count]);

  return (
    <ol className="messages">
      {props.messages.map((message) => {
        const latest = jobs.data
          .filter((entry) => entry.job.messageId === message.id)
          .at(-1)?.job.id;
        const jobId = latest ?? message.imageGeneration?.jobId;
        return (
          <li
            key={message.id}
            className={`message ${message.role}`}
            data-message-id={message.id}
          >
            {jobId ? (
              <ImageMessage jobId={jobId} prompt={message.text} />
            ) : (
              <p>{message.text}</p>
            )}
          </li>
        );
      })}
      <div ref={end} />
    </ol>
  );
}
