/**
 * A handler property that accepts the browser's own handler types: method
 * parameters are checked both ways, so `MessageEvent` fits `{ data }`.
 */
export type SocketHandler<T> =
  | { bivarianceHack(event: T): void }["bivarianceHack"]
  | null;

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
  onopen: SocketHandler<unknown>;
  /** Called per frame received. */
  onmessage: SocketHandler<{ readonly data: unknown }>;
  /** Called once closed, with the close code and reason. */
  onclose: SocketHandler<{ readonly code: number; readonly reason: string }>;
  /** Called on a transport error (a close follows). */
  onerror: SocketHandler<unknown>;
}

/** A WebSocket constructor, such as `globalThis.WebSocket`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
