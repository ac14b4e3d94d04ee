import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Authorize,
  createImageJobs,
  type ImageJobs,
  MemoryMessageStore,
  RealtimeGateway,
  type ServiceLimits,
} from "@imagejobs/core";
import { FsImageStore, serveWebSocketServer } from "@imagejobs/core/node";
import { createForgeBackend } from "@imagejobs/forge-client";
import {
  type StandInForge,
  startStandInForge,
} from "@imagejobs/forge-client/stand-in";
import { WebSocketServer } from "ws";
import { ChatApi, type ImageDefaults } from "./chat-api.js";
import { ConversationStore } from "./conversation-store.js";
import { sendError, sendJson } from "./http-json.js";
import { ensureIdentity, readIdentity } from "./identity.js";
import { serveStatic } from "./static-files.js";

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Options of {@link createChatServer}. Everything has a default. */
export interface ChatServerOptions {
  /** Port; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Address to bind. @default "127.0.0.1" */
  readonly host?: string;
  /** Real Forge servers, one worker each. Unset: one stand-in is started. */
  readonly forgeUrls?: readonly string[];
  /** `--api-auth` credentials of the real Forge servers. */
  readonly forgeAuth?: { username: string; password: string } | null;
  /** The embedded stand-in's speed. @default { stepMs: 150 } */
  readonly forge?: { stepMs?: number; modelLoadMs?: number };
  /** Image size and steps. @default { size: 512, steps: 20 } */
  readonly image?: Partial<ImageDefaults>;
  /** Where images are written. @default `.imagejobs/images` under the app */
  readonly imagesDir?: string;
  /** The built UI. @default `dist/ui` under the app */
  readonly uiDir?: string;
  /** Per-user caps and rates of image jobs. */
  readonly limits?: ServiceLimits;
  /** Conversations per user (and listed per request). @default 100 */
  readonly maxConversations?: number;
  /**
   * Hands the embedded stand-in to the caller as `standIn`, so a test can
   * inject faults in-process. Never reachable over HTTP. @default false
   */
  readonly testHooks?: boolean;
}

/** A running chat server. */
export interface ChatServer {
  /** Its base URL, such as `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** The imagejobs runtime. */
  readonly jobs: ImageJobs;
  /** The app's conversations and messages. */
  readonly conversations: ConversationStore;
  /** The embedded stand-in, only with `testHooks`. */
  readonly standIn: StandInForge | null;
  /**
   * Cuts every open socket without a close handshake, as a network drop
   * would. Only with `testHooks`; throws otherwise.
   */
  dropSockets(): void;
  /** Stops everything it started. */
  close(): Promise<void>;
}

/**
 * Starts the chat: the imagejobs runtime on the in-memory stores with
 * images in a folder, a stand-in Forge unless real ones are given, the
 * JSON API, the socket gateway on `/ws`, and the built UI.
 */
export async function createChatServer(
  options: ChatServerOptions = {},
): Promise<ChatServer> {
  const defaults: ImageDefaults = {
    size: options.image?.size ?? 512,
    steps: options.image?.steps ?? 20,
  };
  const uiDir = options.uiDir ?? resolve(appRoot, "dist/ui");

  let standIn: StandInForge | null = null;
  const forgeUrls = [...(options.forgeUrls ?? [])];
  if (forgeUrls.length === 0) {
    standIn = await startStandInForge({
      stepMs: options.forge?.stepMs ?? 150,
      modelLoadMs: options.forge?.modelLoadMs ?? 0,
    });
    forgeUrls.push(standIn.url);
  }

  const messages = new MemoryMessageStore();
  const conversations = new ConversationStore(messages);
  // A job binds only to a message of the user's own conversation, so
  // nobody can make the relay patch someone else's message.
  const authorize: Authorize = (user, resource) => {
    if (resource.kind === "job") return resource.owner === user.id;
    const owned = conversations.get(user.id, resource.conversationId) !== null;
    if (resource.kind === "conversation") return owned;
    return (
      owned && conversations.holds(resource.conversationId, resource.messageId)
    );
  };
  const images = new FsImageStore({
    root: options.imagesDir ?? resolve(appRoot, ".imagejobs/images"),
  });
  const auth = options.forgeAuth ?? undefined;
  const jobs = createImageJobs({
    backends: forgeUrls.map((baseUrl, index) =>
      createForgeBackend({
        id: `forge-${index + 1}`,
        baseUrl,
        ...(auth ? { auth } : {}),
        progressIntervalMs: 150,
      }),
    ),
    stores: { messages, images },
    limits: options.limits,
    authorize,
    progressIntervalMs: 200,
    pollMs: 500,
  });
  const api = new ChatApi({
    conversations,
    service: jobs.service,
    images,
    defaults,
    ...(options.maxConversations === undefined
      ? {}
      : { maxConversations: options.maxConversations }),
  });
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events: jobs.context.events,
    authorize,
  });

  const onRequest = async (
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    try {
      if (url.pathname === "/healthz") {
        sendJson(response, 200, await jobs.service.stats());
        return;
      }
      const user = ensureIdentity(request, response);
      if (await api.handle(user, request, response, url)) return;
      if (request.method === "GET" && !url.pathname.startsWith("/api/")) {
        if (await serveStatic(uiDir, url.pathname, response)) return;
        if (url.pathname === "/") {
          response.writeHead(503, { "content-type": "text/plain" });
          response.end(`The UI is not built: run "pnpm chat" (${uiDir}).`);
          return;
        }
      }
      sendJson(response, 404, {
        error: { code: "NOT_FOUND", message: "Not found." },
      });
    } catch (error) {
      sendError(response, error);
    }
  };
  const server = createServer((request, response) => {
    void onRequest(request, response);
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 131_072 });
  const stopServing = serveWebSocketServer(gateway, sockets, {
    authenticate: (request) => {
      const id = readIdentity(request);
      return id ? { id } : null;
    },
  });
  server.on("upgrade", (request, socket, head) => {
    const { pathname } = new URL(request.url ?? "/", "http://localhost");
    if (pathname !== "/ws") {
      socket.destroy();
      return;
    }
    // The identity cookie rides along on any site's socket, so a browser
    // socket must come from a page of this host.
    if (!sameOrigin(request)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      sockets.emit("connection", ws, request);
    });
  });

  jobs.start();
  try {
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", () => {
        server.off("error", fail);
        done();
      });
    });
  } catch (error) {
    // A busy port: stop what was started, so the process can exit.
    stopServing();
    gateway.close();
    sockets.close();
    await jobs.close();
    await standIn?.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    jobs,
    conversations,
    standIn: options.testHooks ? standIn : null,
    dropSockets() {
      if (!options.testHooks) throw new Error("testHooks are off");
      for (const client of sockets.clients) client.terminate();
    },
    async close() {
      stopServing();
      gateway.close();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await jobs.close();
      await standIn?.close();
    },
  };
}

/**
 * True when the request's `Origin` names the host it was sent to, or has
 * none (a client that is not a browser, which sends no cookie of another
 * site's page).
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
