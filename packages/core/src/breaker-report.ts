import type { RuntimeContext } from "./context.js";
import type { ServiceStatus } from "./events.js";
import type { BreakerState } from "./ports/job-store.js";

/**
 * Tells everyone a breaker changed: the local event, the store (for stats
 * and ETAs), and the queue's users, who hear `recovering` while no backend
 * of the queue accepts work.
 */
export async function reportBreakerChange(
  context: RuntimeContext,
  change: {
    readonly backendId: string;
    readonly queue: string;
    readonly from: BreakerState;
    readonly to: BreakerState;
  },
): Promise<void> {
  const { jobs, clock, hub, relay, logger } = context;
  const { backendId, queue, to } = change;
  const at = clock.now();
  hub.emit("breaker", { ...change, at });
  logger.warn({ ...change }, "circuit breaker changed");
  try {
    await jobs.reportBreaker({ backendId, queue, state: to, now: at });
    const stats = await jobs.stats(queue);
    const backends = stats.backends.map((b) => ({
      id: b.id,
      breaker: b.breaker,
    }));
    const status: ServiceStatus = backends.some((b) => b.breaker === "closed")
      ? "ok"
      : "recovering";
    await relay.publishService({
      type: "service",
      queue,
      status,
      backends,
      at,
    });
  } catch (error) {
    logger.error({ backendId, err: error }, "could not publish breaker state");
  }
}
