import type { AuthUser } from "../service.js";

/**
 * What a socket server hands the gateway for one connection: a few lines of
 * glue per server (`ws`, Fastify, Socket.IO, uWebSockets).
 */
export interface GatewayTransport {
  /**
   * The user the host authenticated (on upgrade, from a cookie or header).
   * Null: the client's `authenticate` token is checked with the gateway's
   * `authenticate` option instead.
   */
  readonly user?: AuthUser | null;
  /**
   * Sends one text frame. May return a promise that settles once the frame
   * has left (backpressure); the gateway never waits for it, it only counts
   * the bytes still in flight against `maxBufferedBytes`.
   */
  send(text: string): void | Promise<void>;
  /** Bytes the socket holds but has not written yet, when it can tell. */
  bufferedAmount?(): number;
  /** Closes the socket with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
}

/** One connection served by the gateway. */
export interface GatewayConnection {
  /** Hands the gateway one text frame from the client. Never throws. */
  receive(text: string): void;
  /** Tells the gateway the socket closed; its subscriptions end. */
  close(): void;
  /** The authenticated user, once known. */
  readonly user: AuthUser | null;
  /** Resolves once every frame received so far has been answered. */
  idle(): Promise<void>;
}
