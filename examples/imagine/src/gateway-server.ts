import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ImageJobs, RealtimeGateway } from "@imagejobs/core";
import { serveWebSocketServer } from "@imagejobs/core/node";
import { WebSocketServer } from "ws";

/** The realtime gateway on a real socket, for the simulated users. */
export interface GatewayServer {
  /** The WebSocket URL, such as `ws://127.0.0.1:40123/ws`. */
  readonly url: string;
  /** Stops serving and closes every socket. */
  close(): Promise<void>;
}

const USER = /^user-\d+$/;

/**
 * Serves the core gateway over node:http and `ws` on a free loopback port.
 * A simulated user authenticates with its name as the token: the run is
 * local, and each user still reaches only its own jobs.
 */
export async function startGatewayServer(
  runtime: ImageJobs,
): Promise<GatewayServer> {
  const gateway = new RealtimeGateway({
    service: runtime.service,
    events: runtime.context.events,
    authenticate: (token) => (USER.test(token) ? { id: token } : null),
  });
  const http = createServer((_request, response) => {
    response.writeHead(404).end();
  });
  const sockets = new WebSocketServer({
    server: http,
    path: "/ws",
    maxPayload: 131_072,
  });
  const stop = serveWebSocketServer(gateway, sockets);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}/ws`,
    async close() {
      stop();
      gateway.close();
      for (const socket of sockets.clients) socket.terminate();
      sockets.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
