import { afterEach } from "vitest";
import { type StandInForge, startStandInForge } from "./stand-in-forge.js";

/**
 * Gives a test file a `start()` that starts a stand-in Forge on a free port
 * and closes every one it started after each test.
 */
export function useStandIns(): (
  options?: Parameters<typeof startStandInForge>[0],
) => Promise<StandInForge> {
  const servers: StandInForge[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    const server = await startStandInForge(options);
    servers.push(server);
    return server;
  };
}
