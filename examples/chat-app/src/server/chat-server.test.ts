import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageJobClient } from "@imagejobs/core/client";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type ChatServer, createChatServer } from "./chat-server.js";

let server: ChatServer;
let folder: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "chat-api-"));
  server = await createChatServer({
    port: 0,
    forge: { stepMs: 5 },
    image: { size: 64, steps: 4 },
    imagesDir: join(folder, "images"),
    uiDir: join(folder, "ui"),
  });
});

afterAll(async () => {
  await server.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A browser: keeps the identity cookie the server sets on first visit. */
function browser() {
  let cookie = "";
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) },
    });
    const set = response.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0]!;
    return response;
  };
  const post = (path: string, body: unknown) =>
    call(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { call, post, cookie: () => cookie };
}

async function conversationOf(user: ReturnType<typeof browser>) {
  const response = await user.post("/api/conversations", {});
  expect(response.status).toBe(201);
  return ((await response.json()) as { conversation: { id: string } })
    .conversation.id;
}

async function imagine(user: ReturnType<typeof browser>, id: string) {
  const response = await user.post(`/api/conversations/${id}/messages`, {
    text: "/imagine a red fox in snow",
  });
  expect(response.status).toBe(201);
  return (await response.json()) as {
    messages: { id: string; role: string; imageGeneration: unknown }[];
    job: { job: { id: string; messageId: string } };
  };
}

async function settled(user: ReturnType<typeof browser>, id: string) {
  for (;;) {
    const response = await user.call(`/api/conversations/${id}/messages`);
    const { messages } = (await response.json()) as {
      messages: {
        imageGeneration: {
          status: string;
          images: { url: string; width: number }[] | null;
        } | null;
      }[];
    };
    const image = messages.at(-1)?.imageGeneration;
    if (image && ["succeeded", "failed", "cancelled"].includes(image.status)) {
      return image;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("chat API", () => {
  it("sets an httpOnly identity cookie on the first visit", async () => {
    const response = await fetch(`${server.url}/api/conversations`);
    const set = response.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^imagejobs_user=u_[\w-]{22};/);
    expect(set).toContain("HttpOnly");
    expect(await response.json()).toEqual({ conversations: [] });
  });

  it("S28 scopes conversations to their user: another's is 404", async () => {
    const alice = browser();
    const bob = browser();
    const id = await conversationOf(alice);
    await imagine(alice, id);

    const listed = await (await bob.call("/api/conversations")).json();
    expect(listed).toEqual({ conversations: [] });
    for (const response of [
      await bob.call(`/api/conversations/${id}/messages`),
      await bob.post(`/api/conversations/${id}/messages`, { text: "hi" }),
      await bob.post(`/api/conversations/${id}/imagine`, { prompt: "x" }),
    ]) {
      expect(response.status).toBe(404);
      expect(
        ((await response.json()) as { error: { code: string } }).error,
      ).toMatchObject({ code: "NOT_FOUND" });
    }
    const own = await (await alice.call("/api/conversations")).json();
    expect(own.conversations.map((c: { id: string }) => c.id)).toEqual([id]);
  });

  it("answers bad input with 400 naming the field", async () => {
    const user = browser();
    const id = await conversationOf(user);
    const cases: [unknown, string][] = [
      [{}, "text"],
      [{ text: 42 }, "text"],
      [{ text: "   " }, "text"],
      [{ text: "x".repeat(2001) }, "text"],
      [{ text: "/imagine" }, "text"],
      ["{broken", "(body)"],
      ["[1,2]", "(body)"],
    ];
    for (const [body, field] of cases) {
      const response = await user.post(
        `/api/conversations/${id}/messages`,
        body,
      );
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as {
        error: { code: string; fields: { field: string }[] };
      };
      expect(error.code).toBe("INVALID_REQUEST");
      expect(error.fields[0]!.field).toBe(field);
    }
    const empty = await user.post(`/api/conversations/${id}/messages`, {
      text: "/imagine   ",
    });
    expect(
      ((await empty.json()) as { error: { message: string } }).error.message,
    ).toBe(
      "Write what to draw after /imagine, for example: /imagine a red fox in the snow",
    );
    const imagineEmpty = await user.post(`/api/conversations/${id}/imagine`, {
      prompt: "",
    });
    expect(imagineEmpty.status).toBe(400);
    const messages = await (
      await user.call(`/api/conversations/${id}/messages`)
    ).json();
    expect(messages.messages).toEqual([]);
  });

  it("creates the message before the job and serves the image only to its owner", async () => {
    const alice = browser();
    const bob = browser();
    const id = await conversationOf(alice);
    const posted = await imagine(alice, id);
    const assistant = posted.messages[1]!;
    expect(assistant.role).toBe("assistant");
    expect(posted.job.job.messageId).toBe(assistant.id);
    expect(assistant.imageGeneration).toMatchObject({
      jobId: posted.job.job.id,
    });

    const image = await settled(alice, id);
    expect(image.status).toBe("succeeded");
    const url = image.images![0]!.url;

    const mine = await alice.call(url);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("content-type")).toBe("image/png");
    const png = PNG.sync.read(Buffer.from(await mine.arrayBuffer()));
    expect(png.width).toBe(64);

    expect((await bob.call(url)).status).toBe(404);
    expect((await fetch(`${server.url}${url}`)).status).toBe(404);
    expect((await alice.call("/images/../../package.json")).status).toBe(404);
  });

  it("S28 refuses a socket submit bound to another user's message", async () => {
    const alice = browser();
    const bob = browser();
    const aliceChat = await conversationOf(alice);
    const messageId = (await imagine(alice, aliceChat)).messages[1]!.id;
    const bobChat = await conversationOf(bob);

    const cookie = bob.cookie();
    class CookieSocket extends WebSocket {
      constructor(url: string) {
        super(url, { headers: { cookie } });
      }
    }
    const client = new ImageJobClient({
      url: `${server.url.replace("http", "ws")}/ws`,
      WebSocket: CookieSocket,
    });
    try {
      const request = { prompt: "not yours", width: 64, height: 64 };
      await expect(
        client.submit({ conversationId: bobChat, messageId, request }),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(
        client.submit({ conversationId: aliceChat, request }),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
      const own = await client.submit({ conversationId: bobChat, request });
      expect(own.job.status).toMatch(/queued|running/);
    } finally {
      client.close();
    }
  });

  it("refuses a socket without an identity cookie", async () => {
    const client = new ImageJobClient({
      url: `${server.url.replace("http", "ws")}/ws`,
      WebSocket: WebSocket as never,
    });
    try {
      await new Promise<void>((resolve) => {
        const stop = client.subscribe(() => {
          if (client.getSnapshot().connection === "offline") {
            stop();
            resolve();
          }
        });
      });
      expect(client.getSnapshot().connectionError?.code).toBe(
        "UNAUTHENTICATED",
      );
    } finally {
      client.close();
    }
  });

  it("caps a user's conversations at 100 and lists them newest first", async () => {
    const user = browser();
    const ids: string[] = [];
    for (let i = 0; i < 100; i += 1) ids.push(await conversationOf(user));

    const refused = await user.post("/api/conversations", {});
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      error: expect.objectContaining({
        code: "QUOTA_EXCEEDED",
        message: "You have 100 conversations, the most one user can have here.",
      }),
    });

    await imagine(user, ids[0]!);
    const { conversations } = (await (
      await user.call("/api/conversations")
    ).json()) as { conversations: { id: string }[] };
    expect(conversations.map((c) => c.id)).toEqual([
      ids[0],
      ...ids.slice(1).reverse(),
    ]);

    // Another user's count is its own.
    expect((await browser().post("/api/conversations", {})).status).toBe(201);
  });

  it("refuses a socket opened from another site's page, allows its own and none", async () => {
    const user = browser();
    await conversationOf(user);
    const host = new URL(server.url).host;
    const open = (origin?: string) =>
      new Promise<number>((settle) => {
        const socket = new WebSocket(`ws://${host}/ws`, {
          headers: { cookie: user.cookie() },
          ...(origin ? { origin } : {}),
        });
        socket.on("open", () => {
          socket.close();
          settle(101);
        });
        socket.on("unexpected-response", (_request, response) => {
          settle(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.on("error", () => {});
      });

    expect(await open("https://evil.example")).toBe(403);
    expect(await open(`http://${host.replace("127.0.0.1", "localhost")}`)).toBe(
      403,
    );
    expect(await open("null")).toBe(403);
    expect(await open(`http://${host}`)).toBe(101);
    expect(await open()).toBe(101);
  });

  it("names an inline icon in the page, so no browser asks for /favicon.ico", () => {
    const html = readFileSync(
      new URL("../../index.html", import.meta.url),
      "utf8",
    );
    expect(html).toMatch(/<link\s+rel="icon"\s+href="data:image\/svg\+xml,/);
  });

  it("answers /healthz with the service's stats", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    const stats = (await response.json()) as {
      queues: { queue: string; backends: { breaker: string }[] }[];
    };
    expect(stats.queues[0]).toMatchObject({
      queue: "default",
      backends: [{ breaker: "closed" }],
    });
  });
});
