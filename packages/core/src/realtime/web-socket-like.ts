/**
 * A handler property that accepts the browser's own handler types: method
 * parameters are checked both ways, so `MessageEvent` fits `{ data }`.
 */
type Handler<T> = { bivarianceHack(event: T): void }["bivarianceHack"] | null;

/**
 * The part of the WebSocket API the client store uses. The browser's
 * `WebSocket`, the `ws` package's and {@link createInProcessSockets}' fit.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Called once open. */
  onopen: Handler<unknown>;
  /** Called per frame received. */
  onmessage: Handler<{ readonly data: unknown }>;
  /** Called once closed, with the close code and reason. */
  onclose: Handler<{ readonly code: number; readonly reason: string }>;
  /** Called on a transport error (a close follows). */
  onerror: Handler<unknown>;
}

/** A WebSocket constructor, such as `globalThis.WebSocket`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
