"use client";
import type { PublicError } from "@imagejobs/core";
import type { ConnectionStatus } from "@imagejobs/core/client";
import { useSyncExternalStore } from "react";
import { useImageJobClient } from "./image-jobs-provider.js";

/** What {@link useConnectionStatus} returns. */
export interface ConnectionStatusResult {
  /** The connection's status, never a job's. */
  readonly status: ConnectionStatus;
  /** Why it was last lost or refused, if known. */
  readonly error: PublicError | null;
  /** `status === "open"`. */
  readonly isOpen: boolean;
  /** `status === "connecting"`. */
  readonly isConnecting: boolean;
  /** `status === "reconnecting"`. */
  readonly isReconnecting: boolean;
  /** `status === "offline"`. */
  readonly isOffline: boolean;
}

/** The connection's status, apart from any job's. */
export function useConnectionStatus(): ConnectionStatusResult {
  const client = useImageJobClient();
  const state = useSyncExternalStore(
    client.subscribe,
    client.getSnapshot,
    client.getSnapshot,
  );
  const status = state.connection;
  return {
    status,
    error: state.connectionError,
    isOpen: status === "open",
    isConnecting: status === "connecting",
    isReconnecting: status === "reconnecting",
    isOffline: status === "offline",
  };
}
