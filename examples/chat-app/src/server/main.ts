import { ChatConfigError, readChatConfig } from "./chat-config.js";
import { type ChatServer, createChatServer } from "./chat-server.js";

let server: ChatServer | null = null;
let stopping = false;

// A Ctrl-C reaches every process of `pnpm chat` at once, and pnpm passes
// it on again, so a repeated signal while closing is ignored, not fatal.
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (!server) process.exit(0);
  console.log("stopping…");
  void server.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  const config = readChatConfig(process.env);
  for (const notice of config.notices) console.warn(notice);

  server = await createChatServer({
    port: config.port,
    host: process.env.HOST ?? "127.0.0.1",
    forgeUrls: config.forgeUrls,
    forgeAuth: config.forgeAuth,
  });

  const gpus =
    config.forgeUrls.length > 0
      ? `${config.forgeUrls.length} Forge server(s)`
      : "one stand-in Forge server (no GPU needed)";
  console.log(`imagejobs chat is running with ${gpus}.`);
  console.log(`open http://localhost:${server.port}`);
} catch (error) {
  console.error(`chat: ${explain(error)}`);
  process.exit(error instanceof ChatConfigError ? 2 : 1);
}

/** One line for what stopped the start. */
function explain(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const port = process.env.PORT ?? "3000";
  if (code === "EADDRINUSE") {
    return `port ${port} is already in use (another "pnpm chat"?); stop it or pick another port, such as PORT=3001 pnpm chat`;
  }
  if (code === "EACCES") {
    return `port ${port} needs more rights than this user has; pick one above 1023, such as PORT=3001 pnpm chat`;
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return `HOST ${process.env.HOST} is not an address of this machine`;
  }
  return error instanceof Error ? error.message : String(error);
}
