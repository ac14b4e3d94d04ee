import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "stand-in/index": "src/stand-in/index.ts",
    "stand-in/cli": "src/stand-in/cli.ts",
  },
  format: ["esm", "cjs"],
  // tsup injects `baseUrl`, which TypeScript 6 deprecates.
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  external: ["@imagejobs/core"],
  sourcemap: true,
  clean: true,
  target: "es2022",
});
