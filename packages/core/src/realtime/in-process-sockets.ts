import type { AuthUser } from "../service.js";
import type { GatewayConnection } from "./gateway-transport.js";
import type { RealtimeGateway } from "./realtime-gateway.js";
import type { WebSocketConstructor, WebSocketLike } from "./web-socket-like.js";

/** Options of {@link createInProcessSockets}. */
export interface InProcessSocketsOptions {
  /** The user of a socket opened on `url`. Null: authenticate by token. */
  readonly user?: (url: string) => AuthUser | null;
}

/** A pair of in-process socket ends joining a client store to a gateway. */
export interface InProcessSockets {
  /** Pass it as the client store's `WebSocket`. */
  readonly WebSocket: WebSocketConstructor;
  /** The sockets currently open. */
  readonly open: ReadonlySet<WebSocketLike>;
  /** Cuts every open socket as a network would (close code 1006). */
  dropAll(): void;
}

/**
 * The gateway bound to in-process sockets: no network, frames delivered
 * asynchronously in order. The second binding next to `ws`, showing that
 * glue is a few lines; also handy for tests and same-process demos.
 */
export function createInProcessSockets(
  gateway: RealtimeGateway,
  options: InProcessSocketsOptions = {},
): InProcessSockets {
  const open = new Set<InProcessSocket>();

  class InProcessSocket implements WebSocketLike {
    readyState = 0;
    onopen: WebSocketLike["onopen"] = null;
    onmessage: WebSocketLike["onmessage"] = null;
    onclose: WebSocketLike["onclose"] = null;
    onerror: WebSocketLike["onerror"] = null;
    #connection: GatewayConnection | null = null;

    constructor(url: string) {
      setTimeout(() => {
        if (this.readyState !== 0) return;
        this.#connection = gateway.connect({
          user: options.user?.(url) ?? null,
          send: (text) => {
            queueMicrotask(() => {
              if (this.readyState === 1) this.onmessage?.({ data: text });
            });
          },
          close: (code, reason) => this.#closed(code, reason),
        });
        this.readyState = 1;
        open.add(this);
        this.onopen?.({});
      }, 0);
    }

    send(data: string): void {
      if (this.readyState !== 1) throw new Error("socket is not open");
      const connection = this.#connection;
      queueMicrotask(() => connection?.receive(data));
    }

    close(code = 1000, reason = ""): void {
      this.#connection?.close();
      this.#closed(code, reason);
    }

    /** Ends the socket as a cut network would. */
    drop(): void {
      this.close(1006, "");
    }

    #closed(code: number, reason: string): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      open.delete(this);
      queueMicrotask(() => this.onclose?.({ code, reason }));
    }
  }

  return {
    WebSocket: InProcessSocket,
    open,
    dropAll() {
      for (const socket of [...open]) socket.drop();
    },
  };
}
