import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "./breaker.js";
import type { BreakerState } from "./ports/job-store.js";
import { FakeClock } from "./testing/fake-clock.js";

describe("CircuitBreaker", () => {
  it("opens after the configured run of faults and probes once when due", async () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const breaker = new CircuitBreaker(
      clock,
      { failureThreshold: 3, openMs: 10_000 },
      (from: BreakerState, to: BreakerState) => changes.push(`${from}>${to}`),
    );
    const probe = { calls: 0, ok: false };
    const check = () => {
      probe.calls += 1;
      return probe.ok ? Promise.resolve() : Promise.reject(new Error("down"));
    };

    breaker.recordFault();
    breaker.recordFault();
    breaker.recordSuccess();
    breaker.recordFault();
    breaker.recordFault();
    expect(breaker.state).toBe("closed");
    breaker.recordFault();
    expect(breaker.state).toBe("open");
    expect(breaker.msUntilProbe).toBe(10_000);
    expect(await breaker.allow(check)).toBe(false);
    expect(probe.calls).toBe(0);

    await clock.advance(10_000);
    expect(await breaker.allow(check)).toBe(false);
    expect(probe.calls).toBe(1);
    expect(breaker.msUntilProbe).toBe(10_000);

    await clock.advance(10_000);
    probe.ok = true;
    expect(await breaker.allow(check)).toBe(true);
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual([
      "closed>open",
      "open>half-open",
      "half-open>open",
      "open>half-open",
      "half-open>closed",
    ]);
  });

  it("defaults to 5 faults and 60 s", async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker(clock);
    for (let i = 0; i < 4; i += 1) breaker.recordFault();
    expect(breaker.state).toBe("closed");
    breaker.recordFault();
    expect(breaker.state).toBe("open");
    expect(breaker.msUntilProbe).toBe(60_000);
  });
});
