import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ImageJobError } from "./errors.js";
import { MemoryJobStore } from "./memory/memory-job-store.js";
import { createImageRequestSchema, parseOrThrow } from "./request.js";
import { createImageJobs } from "./runtime.js";
import { FakeClock } from "./testing/fake-clock.js";

const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

describe("image request schema", () => {
  const schema = createImageRequestSchema({
    extra: z.strictObject({ sampler: z.enum(["Euler a", "DPM++ 2M"]) }),
  });

  it("fills defaults and keeps a valid request", () => {
    expect(parseOrThrow(schema, { prompt: "  a cat  " })).toEqual({
      prompt: "a cat",
      negativePrompt: "",
      width: 512,
      height: 512,
      steps: 20,
      cfgScale: 7,
      seed: -1,
      batchSize: 1,
    });
  });

  it("names every bad field, unknown ones included", () => {
    const error = (() => {
      try {
        parseOrThrow(schema, {
          prompt: "",
          width: 513,
          steps: 0,
          script_name: "x",
          extra: { sampler: "Nope", save_images: true },
        });
      } catch (thrown) {
        return thrown as ImageJobError;
      }
      throw new Error("expected a refusal");
    })();
    expect(error.code).toBe("INVALID_REQUEST");
    const fields = error.fields.map((f) => f.field).sort();
    expect(fields).toEqual(
      [
        "extra.sampler",
        "extra.save_images",
        "prompt",
        "script_name",
        "steps",
        "width",
      ].sort(),
    );
    expect(error.toPublic()).not.toHaveProperty("detail");
  });

  it("says what is wrong in plain words, once per field", () => {
    const error = (() => {
      try {
        parseOrThrow(schema, {
          prompt: "",
          width: 100_000,
          height: 100_000,
          steps: 2.5,
          cfgScale: "high",
          batchSize: 0,
        });
      } catch (thrown) {
        return thrown as ImageJobError;
      }
      throw new Error("expected a refusal");
    })();
    const byField = Object.fromEntries(
      error.fields.map((f) => [f.field, f.message]),
    );
    expect(error.fields.filter((f) => f.field === "width")).toHaveLength(1);
    expect(byField).toEqual({
      prompt: "must not be empty",
      width: "must be at most 2048",
      height: "must be at most 2048",
      steps: "must be a whole number",
      cfgScale: "must be a number",
      batchSize: "must be at least 1",
    });
  });

  it("refuses more pixels than the cap", () => {
    const small = createImageRequestSchema({
      limits: { maxPixels: 512 * 512 },
    });
    expect(() =>
      parseOrThrow(small, { prompt: "x", width: 1024, height: 512 }),
    ).toThrow(/over the limit/);
  });

  it(`S27 generated malformed requests each get INVALID_REQUEST naming a field, and nothing is queued (seed ${seed})`, async () => {
    const clock = new FakeClock();
    const jobs = new MemoryJobStore();
    const runtime = createImageJobs({
      clock,
      stores: { jobs },
      sweepIntervalMs: 0,
    });
    const junk = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.double(),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.constant(null),
      fc.array(fc.anything(), { maxLength: 3 }),
      fc.object({ maxDepth: 3 }),
      fc.string({ minLength: 2001, maxLength: 5000 }),
    );
    const field = fc.constantFrom(
      "prompt",
      "negativePrompt",
      "width",
      "height",
      "steps",
      "cfgScale",
      "seed",
      "batchSize",
      "model",
      "extra",
      "script_name",
      "alwayson_scripts",
      "override_settings",
      "__proto__",
      "constructor",
      "init_images",
    );
    const malformed = fc
      .record({
        broken: field,
        value: junk,
        rest: fc.dictionary(field, junk, { maxKeys: 3 }),
      })
      .map(({ broken, value, rest }) => ({
        prompt: "ok",
        ...rest,
        [broken]: value,
      }))
      .filter((request) => !schema.safeParse(request).success);

    await fc.assert(
      fc.asyncProperty(malformed, async (request) => {
        const error = await runtime.service
          .submit({ id: "fuzzer" }, { conversationId: "c", request })
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(ImageJobError.isInstance(error)).toBe(true);
        const refused = error as ImageJobError;
        expect(refused.code).toBe("INVALID_REQUEST");
        expect(refused.fields.length).toBeGreaterThan(0);
        for (const issue of refused.fields) {
          expect(issue.field.length).toBeGreaterThan(0);
          expect(issue.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: numRuns * 20, seed },
    );
    expect((await jobs.stats("default")).queued).toBe(0);
    expect(await jobs.list({ owner: "fuzzer", limit: 10 })).toEqual([]);
  });
});
