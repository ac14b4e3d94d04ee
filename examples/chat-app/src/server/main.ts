import { readChatConfig } from "./chat-config.js";
import { createChatServer } from "./chat-server.js";

const config = readChatConfig(process.env);
for (const notice of config.notices) console.warn(notice);

const server = await createChatServer({
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

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  console.log("stopping…");
  void server.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
