import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    "client/index": "src/client/index.ts",
    "node/index": "src/node/index.ts",
  },
  format: ["esm", "cjs"],
  // tsup injects `baseUrl`, which TypeScript 6 deprecates.
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  external: ["ws", "vitest"],
  sourcemap: true,
  clean: true,
  target: "es2022",
});
