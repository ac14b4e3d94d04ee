"use client";
import type { ImageJobError } from "@imagejobs/core";
import type { ImageJobMutation, MutationStatus } from "@imagejobs/core/client";
import { useSyncExternalStore } from "react";

/** A mutation hook's result, shaped like TanStack Query's `useMutation`. */
export interface MutationResult<TVariables, TData> {
  /** Where it is. */
  readonly status: MutationStatus;
  /** The last result, once succeeded. */
  readonly data: TData | undefined;
  /** The last error, once failed; null otherwise. */
  readonly error: ImageJobError | null;
  /** The variables of the last call. */
  readonly variables: TVariables | undefined;
  /** `status === "idle"`. */
  readonly isIdle: boolean;
  /** `status === "pending"`. */
  readonly isPending: boolean;
  /** `status === "success"`. */
  readonly isSuccess: boolean;
  /** `status === "error"`. */
  readonly isError: boolean;
  /** Runs it; the state tells the outcome. */
  mutate(variables: TVariables): void;
  /** Runs it and resolves with the result (rejects with the error). */
  mutateAsync(variables: TVariables): Promise<TData>;
  /** Back to idle. */
  reset(): void;
}

/** Reads a framework-free mutation with `useSyncExternalStore`. */
export function useMutationStore<TVariables, TData>(
  mutation: ImageJobMutation<TVariables, TData>,
): MutationResult<TVariables, TData> {
  const state = useSyncExternalStore(
    mutation.subscribe,
    mutation.getSnapshot,
    mutation.getSnapshot,
  );
  return {
    ...state,
    isIdle: state.status === "idle",
    isPending: state.status === "pending",
    isSuccess: state.status === "success",
    isError: state.status === "error",
    mutate: mutation.mutate,
    mutateAsync: mutation.mutateAsync,
    reset: mutation.reset,
  };
}
