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
 */
export function readChatConfig(env: NodeJS.ProcessEnv): ChatConfig {
  const notices: string[] = [];
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  }

  const forgeUrls = (env.FORGE_URL ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
  for (const url of forgeUrls) {
    if (!/^https?:\/\//.test(url)) {
      throw new Error(`FORGE_URL entries must be http(s) URLs, got "${url}"`);
    }
  }

  let forgeAuth: ChatConfig["forgeAuth"] = null;
  if (env.FORGE_AUTH) {
    const split = env.FORGE_AUTH.indexOf(":");
    if (split <= 0) throw new Error("FORGE_AUTH must look like user:pass");
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
