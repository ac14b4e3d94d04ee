import { ImageJobError, type ImageJobService } from "@imagejobs/core";
import type { ConversationStore } from "./conversation-store.js";

/**
 * The service as the socket gateway sees it: a submit over the socket may
 * bind a job only to a message of the user's own conversation, so nobody
 * can make the relay patch someone else's message.
 */
export function guardSubmits(
  service: ImageJobService,
  conversations: ConversationStore,
): ImageJobService {
  const submit: ImageJobService["submit"] = async (user, input) => {
    const conversation =
      typeof input?.conversationId === "string"
        ? conversations.get(user.id, input.conversationId)
        : null;
    const messageId = input?.messageId;
    if (
      conversation &&
      messageId !== undefined &&
      !conversations.holds(conversation.id, String(messageId))
    ) {
      throw new ImageJobError("NOT_FOUND", { detail: `message ${messageId}` });
    }
    return service.submit(user, input);
  };
  return new Proxy(service, {
    get(target, property) {
      if (property === "submit") return submit;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
