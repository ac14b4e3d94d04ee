import { existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import {
  defineConfig,
  type TestProjectInlineConfiguration,
} from "vitest/config";

const ci = process.env.CI === "true";

/** Test environments that differ from Node, by workspace folder. */
const environments: Record<string, string> = {
  "packages/react": process.env.DOM_ENV ?? "jsdom",
};

/** Folders whose tests start servers or browsers and need more time. */
const slow = new Set(["examples/chat-app", "examples/cluster"]);

function projects(): TestProjectInlineConfiguration[] {
  const found: TestProjectInlineConfiguration[] = [];
  for (const parent of ["packages", "examples"]) {
    if (!existsSync(parent)) continue;
    for (const name of readdirSync(parent).sort()) {
      const root = `${parent}/${name}`;
      if (!existsSync(`${root}/package.json`)) continue;
      found.push({
        extends: true,
        test: {
          name: parent === "packages" ? name : `example-${name}`,
          root,
          include: ["src/**/*.test.{ts,tsx}", "test/**/*.test.{ts,tsx}"],
          environment: environments[root] ?? "node",
          testTimeout: slow.has(root) ? 120_000 : 20_000,
          hookTimeout: slow.has(root) ? 120_000 : 30_000,
        },
      });
    }
  }
  // The hooks' tests once more on React 18, the oldest React they support:
  // React, React DOM and the testing library all come from one place.
  const react18 = resolve("packages/react/react-18/node_modules");
  if (existsSync(`${react18}/react`)) {
    const from = (name: string) => ({
      find: new RegExp(`^${name}(/.*)?$`),
      replacement: `${react18}/${name}$1`,
    });
    found.push({
      extends: true,
      resolve: {
        alias: [
          from("react"),
          from("react-dom"),
          from("@testing-library/react"),
        ],
      },
      test: {
        name: "react-18",
        root: "packages/react",
        include: ["src/hooks.test.tsx"],
        environment: "jsdom",
        env: { EXPECT_REACT: "18" },
      },
    });
  }
  return found;
}

// Workspace packages resolve to their source, so tests need no build.
const conditions = ["@imagejobs/source", "import", "module", "node", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    // CI also keeps a JSON report, for its closing count of tests.
    reporters: ci
      ? ["default", ["json", { outputFile: ".artifacts/vitest-report.json" }]]
      : ["default"],
    // Property tests print their seed; CI keeps the run count bounded.
    env: { FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? (ci ? "60" : "100") },
    projects: projects(),
  },
});
