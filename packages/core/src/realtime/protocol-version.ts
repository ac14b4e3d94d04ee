/**
 * The version of the realtime protocol. A client names it in its first
 * message; a gateway refuses any other with INVALID_REQUEST and closes.
 */
export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the gateway uses, so a client knows what to do. */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect. */
  goingAway: 1001,
  /** No message (not even a pong) arrived within a ping interval; reconnect. */
  pingTimeout: 4002,
  /** The socket fell too far behind; reconnect and resume from the cursors. */
  slowConsumer: 4008,
  /** The first message was not a valid authenticate; do not reconnect as is. */
  protocolError: 4400,
  /** No user could be authenticated; do not reconnect until signed in. */
  unauthenticated: 4401,
} as const;
