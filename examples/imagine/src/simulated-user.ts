import { ImageJobError, type JobView } from "@imagejobs/core";
import { ImageJobClient } from "@imagejobs/core/client";
import { WebSocket } from "ws";

/** What one user saw of one of its jobs, over its own socket. */
export interface SeenJob {
  readonly prompt: string;
  readonly user: string;
  /** Every position shown to the user, in order, repeats dropped. */
  readonly positions: number[];
  /** The newest version of the job the user received. */
  job: JobView;
}

/** Options of {@link SimulatedUser}. */
export interface SimulatedUserOptions {
  /** The user's name; also its token. */
  readonly name: string;
  /** The gateway's WebSocket URL. */
  readonly url: string;
  /** The image request for a prompt. */
  readonly request: (prompt: string) => Record<string, unknown>;
  /** Longest pause before each submit, ms. @default 400 */
  readonly maxPauseMs?: number;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * A user with the core client store on a real WebSocket (the `ws`
 * package): it follows its conversation, submits its prompts over the
 * socket at random moments, and records what its socket told it.
 */
export class SimulatedUser {
  readonly name: string;
  readonly seen = new Map<string, SeenJob>();
  readonly #options: SimulatedUserOptions;
  readonly #client: ImageJobClient;
  readonly #conversationId: string;
  #onChange: (() => void) | null = null;

  constructor(options: SimulatedUserOptions) {
    this.#options = options;
    this.name = options.name;
    this.#conversationId = `chat-${options.name}`;
    this.#client = new ImageJobClient({
      url: options.url,
      WebSocket: WebSocket as never,
      token: () => options.name,
    });
    this.#client.watchConversation(this.#conversationId);
    this.#client.subscribe(() => this.#record());
  }

  /** Submits each prompt after a random pause, waiting out quota refusals. */
  async submitAll(prompts: readonly string[]): Promise<void> {
    const maxPause = this.#options.maxPauseMs ?? 400;
    for (const prompt of prompts) {
      await sleep(Math.random() * maxPause);
      for (;;) {
        try {
          await this.#client.submit({
            conversationId: this.#conversationId,
            request: this.#options.request(prompt),
          });
          this.#record();
          break;
        } catch (error) {
          const refused = ImageJobError.from(error);
          if (!["QUOTA_EXCEEDED", "RATE_LIMITED"].includes(refused.code)) {
            throw error;
          }
          await sleep(Math.min(refused.retryAfterMs ?? 300, 300));
        }
      }
    }
  }

  /** Resolves once every submitted job has ended, as the socket told it. */
  finished(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if ([...this.seen.values()].every((s) => TERMINAL.has(s.job.status))) {
          this.#onChange = null;
          resolve();
        }
      };
      this.#onChange = check;
      check();
    });
  }

  /** Closes the socket. */
  close(): void {
    this.#client.close();
  }

  #record(): void {
    const { jobs } = this.#client.getSnapshot();
    for (const entry of Object.values(jobs)) {
      if (entry.job.conversationId !== this.#conversationId) continue;
      let seen = this.seen.get(entry.job.id);
      if (!seen) {
        seen = {
          prompt: entry.job.request.prompt,
          user: this.name,
          positions: [],
          job: entry.job,
        };
        this.seen.set(entry.job.id, seen);
      }
      seen.job = entry.job;
      const position = entry.position?.position;
      if (position !== undefined && seen.positions.at(-1) !== position) {
        seen.positions.push(position);
      }
    }
    this.#onChange?.();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
