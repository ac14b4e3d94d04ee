/** A setting in the environment that the server cannot use. */
export class ChatConfigError extends Error {
  override readonly name = "ChatConfigError";
}

/** What the server reads from its environment. */
export interface ChatConfig {
  /** The HTTP port. */
  readonly port: number;
  /** Real Forge servers, one worker each; empty: start a stand-in. */
  readonly forgeUrls: readonly string[];
  /** `--api-auth` credentials of the Forge servers, if any. */
  readonly forgeAuth: { username: string; password: string } | null;
  /** Lines to print at start: settings that are ignored, and why. */
  readonly notices: readonly string[];
}

/**
 * Reads `PORT`, `FORGE_URL` (comma-separated), `FORGE_AUTH` (user:pass),
 * and notes `REDIS_URL`/`DATABASE_URL`, which are not supported yet.
 * Throws {@link ChatConfigError} naming the setting it cannot use.
 */
export function readChatConfig(env: NodeJS.ProcessEnv): ChatConfig {
  const notices: string[] = [];
  const port = Number(env.PORT ?? 3000);
  if (
    env.PORT?.trim() === "" ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65_535
  ) {
    throw new ChatConfigError(
      `PORT must be a port number from 0 to 65535, got "${env.PORT}"`,
    );
  }

  const forgeUrls = (env.FORGE_URL ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
  for (const url of forgeUrls) {
    if (!/^https?:\/\//.test(url)) {
      throw new ChatConfigError(
        `FORGE_URL entries must be http(s) URLs, got "${url}"`,
      );
    }
  }

  let forgeAuth: ChatConfig["forgeAuth"] = null;
  if (env.FORGE_AUTH) {
    const split = env.FORGE_AUTH.indexOf(":");
    if (split <= 0)
      throw new ChatConfigError(
        "FORGE_AUTH must look like user:pass (the Forge server's --api-auth)",
      );
    forgeAuth = {
      username: env.FORGE_AUTH.slice(0, split),
      password: env.FORGE_AUTH.slice(split + 1),
    };
  }

  for (const name of ["REDIS_URL", "DATABASE_URL"] as const) {
    if (env[name]) {
      notices.push(
        `${name} is set, but the chat app does not support it yet; jobs and messages stay in memory.`,
      );
    }
  }
  return { port, forgeUrls, forgeAuth, notices };
}
