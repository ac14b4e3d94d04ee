import type { IncomingMessage } from "node:http";
import type { WebSocket, WebSocketServer } from "ws";
import type { RealtimeGateway } from "../realtime/realtime-gateway.js";
import type { AuthUser } from "../service.js";

/** Options of {@link serveWebSocketServer}. */
export interface ServeWebSocketServerOptions {
  /**
   * Finds the user of an upgrade request (a session cookie, a header).
   * Null or unset: the client's `authenticate` token decides, through the
   * gateway's `authenticate` option.
   */
  readonly authenticate?: (
    request: IncomingMessage,
  ) => AuthUser | null | Promise<AuthUser | null>;
  /**
   * How long a socket the gateway closed may take to finish the close
   * handshake before it is cut, in ms (a slow consumer never reads it).
   * @default 2000
   */
  readonly closeTimeoutMs?: number;
}

/**
 * Serves the gateway on a `ws` server: every connection becomes a gateway
 * connection. Create the server with a `maxPayload` above the gateway's
 * `maxFrameBytes` so oversized frames get INVALID_REQUEST, not a dropped
 * socket. Returns a function that stops serving new connections.
 */
export function serveWebSocketServer(
  gateway: RealtimeGateway,
  server: WebSocketServer,
  options: ServeWebSocketServerOptions = {},
): () => void {
  const onConnection = (socket: WebSocket, request: IncomingMessage) => {
    const early: string[] = [];
    let receive: (text: string) => void = (text) => early.push(text);
    socket.on("message", (data) => receive(String(data)));
    socket.on("error", (error) => {
      gateway.logger.debug({ err: error }, "socket error");
    });

    const user = Promise.resolve(options.authenticate?.(request) ?? null);
    user.then(
      (found) => {
        if (socket.readyState !== socket.OPEN) return;
        const connection = gateway.connect({
          user: found,
          send: (text) => socket.send(text),
          bufferedAmount: () => socket.bufferedAmount,
          close: (code, reason) => {
            socket.close(code, reason);
            const timer = setTimeout(
              () => socket.terminate(),
              options.closeTimeoutMs ?? 2000,
            );
            timer.unref();
            socket.once("close", () => clearTimeout(timer));
          },
        });
        socket.on("close", () => connection.close());
        receive = (text) => connection.receive(text);
        for (const text of early.splice(0)) connection.receive(text);
      },
      (error) => {
        gateway.logger.warn({ err: error }, "upgrade authentication failed");
        socket.close(4401, "UNAUTHENTICATED");
      },
    );
  };
  server.on("connection", onConnection);
  return () => server.off("connection", onConnection);
}
