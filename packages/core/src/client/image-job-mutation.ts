import { ImageJobError } from "../errors.js";

/** Where a mutation is, like TanStack Query's mutation status. */
export type MutationStatus = "idle" | "pending" | "success" | "error";

/** A mutation's state; a new object on every change. */
export interface MutationState<TData, TVariables> {
  /** Where it is. */
  readonly status: MutationStatus;
  /** The last result, once succeeded. */
  readonly data: TData | undefined;
  /** The last error, once failed; null otherwise. */
  readonly error: ImageJobError | null;
  /** The variables of the last call. */
  readonly variables: TVariables | undefined;
}

const IDLE: MutationState<never, never> = {
  status: "idle",
  data: undefined,
  error: null,
  variables: undefined,
};

/**
 * A framework-free mutation: one action with its status, result and error,
 * readable with `getSnapshot`/`subscribe`. The latest call's outcome wins.
 */
export class ImageJobMutation<TVariables, TData> {
  readonly #run: (variables: TVariables) => Promise<TData>;
  readonly #listeners = new Set<() => void>();
  #state: MutationState<TData, TVariables> = IDLE;
  #call = 0;

  /** Wraps `run`, the action. */
  constructor(run: (variables: TVariables) => Promise<TData>) {
    this.#run = run;
  }

  /** The current state; the same object until something changes. */
  getSnapshot = (): MutationState<TData, TVariables> => this.#state;

  /** Calls `listener` after every change. Returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Runs the action; resolves with its result or rejects with its error. */
  mutateAsync = async (variables: TVariables): Promise<TData> => {
    this.#call += 1;
    const call = this.#call;
    this.#set({ status: "pending", data: undefined, error: null, variables });
    try {
      const data = await this.#run(variables);
      if (call === this.#call) {
        this.#set({ status: "success", data, error: null, variables });
      }
      return data;
    } catch (thrown) {
      const error = ImageJobError.from(thrown);
      if (call === this.#call) {
        this.#set({ status: "error", data: undefined, error, variables });
      }
      throw error;
    }
  };

  /** Runs the action without a promise to handle; the state tells the outcome. */
  mutate = (variables: TVariables): void => {
    this.mutateAsync(variables).catch(() => {});
  };

  /** Back to idle. */
  reset = (): void => {
    this.#call += 1;
    this.#set(IDLE);
  };

  #set(state: MutationState<TData, TVariables>): void {
    this.#state = state;
    for (const listener of [...this.#listeners]) listener();
  }
}
