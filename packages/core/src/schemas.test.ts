import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { JobChangedEvent, ServiceStatusEvent } from "./events.js";
import type { Job, JobView } from "./job.js";
import {
  clientEventSchema,
  type jobChangedEventSchema,
  jobSchema,
  jobViewSchema,
  type serviceStatusEventSchema,
} from "./schemas.js";
import { createHarness } from "./testing/harness.js";
import { memoryStores } from "./testing/memory-stores.js";

describe("schemas", () => {
  it("match the TypeScript types", () => {
    expectTypeOf<z.infer<typeof jobViewSchema>>().toExtend<JobView>();
    expectTypeOf<z.infer<typeof jobSchema>>().toExtend<Job>();
    expectTypeOf<
      z.infer<typeof jobChangedEventSchema>
    >().toExtend<JobChangedEvent>();
    expectTypeOf<
      z.infer<typeof serviceStatusEventSchema>
    >().toExtend<ServiceStatusEvent>();
  });

  it("accept every job and event a real run produces, and refuse extra fields", async () => {
    const h = await createHarness(memoryStores);
    const events: unknown[] = [];
    h.runtime.events.on("job", (event) => events.push(event));
    const { job } = await h.submit("alice", { extra: undefined });
    const run = await h.backends[0]!.run(0);
    run.step(3, 10);
    await h.clock.advance(2000);
    run.succeed();
    await h.until(async () => (await h.job(job.id)).status === "succeeded");
    await h.runtime.relay.idle();

    expect(jobSchema.parse(await h.job(job.id))).toEqual(await h.job(job.id));
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const event of events) clientEventSchema.parse(event);
    expect(
      jobViewSchema.safeParse({ ...job, fencingToken: "leak" }).success,
    ).toBe(false);
    await h.close();
  });
});
