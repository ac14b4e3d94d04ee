"use client";
import type { PublicError } from "@imagejobs/core";
import type { ConnectionStatus, JobEntry } from "@imagejobs/core/client";
import { useCallback, useEffect, useSyncExternalStore } from "react";
import { useImageJobClient } from "./image-jobs-provider.js";

/** What {@link useConversationImageJobs} returns. */
export interface ConversationImageJobsResult {
  /** The conversation's jobs in submit order, each with its live position. */
  readonly data: readonly JobEntry[];
  /** `pending` until the first snapshot, `error` when refused. */
  readonly status: "pending" | "success" | "error";
  /** Why it was refused (NOT_FOUND), if so. */
  readonly error: PublicError | null;
  /** The connection's status. */
  readonly connection: ConnectionStatus;
  /** `status === "pending"`. */
  readonly isPending: boolean;
  /** `status === "success"`. */
  readonly isSuccess: boolean;
  /** `status === "error"`. */
  readonly isError: boolean;
  /** The jobs not yet finished, to re-attach to after a reload. */
  readonly active: readonly JobEntry[];
}

/** The image jobs of a conversation, live: follows them while mounted. */
export function useConversationImageJobs(
  conversationId: string,
): ConversationImageJobsResult {
  const client = useImageJobClient();
  useEffect(
    () => client.watchConversation(conversationId),
    [client, conversationId],
  );
  const getJobs = useCallback(
    () => client.getConversationJobs(conversationId),
    [client, conversationId],
  );
  const data = useSyncExternalStore(client.subscribe, getJobs, getJobs);
  const state = useSyncExternalStore(
    client.subscribe,
    client.getSnapshot,
    client.getSnapshot,
  );

  const target = state.targets[`conversation:${conversationId}`];
  const status =
    target?.status === "ready"
      ? "success"
      : target?.status === "error"
        ? "error"
        : "pending";
  return {
    data,
    status,
    error: target?.error ?? null,
    connection: state.connection,
    isPending: status === "pending",
    isSuccess: status === "success",
    isError: status === "error",
    active: data.filter(
      (entry) =>
        entry.job.status === "queued" || entry.job.status === "running",
    ),
  };
}
