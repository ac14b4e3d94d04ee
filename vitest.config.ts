import { defineConfig } from "vitest/config";

const ci = process.env.CI === "true";

export default defineConfig({
  test: {
    // Property tests print their seed; CI keeps the run count bounded.
    env: { FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? (ci ? "60" : "100") },
    projects: [
      {
        extends: true,
        test: {
          name: "core",
          root: "packages/core",
          include: ["src/**/*.test.ts"],
        },
      },
    ],
  },
});
