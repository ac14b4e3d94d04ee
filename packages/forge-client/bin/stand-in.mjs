#!/usr/bin/env node
// Starts the stand-in Forge server: the built code when present, else the
// TypeScript source through tsx. The CLI prints its own one-line errors.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/stand-in/cli.js", import.meta.url);
let cli;
try {
  if (existsSync(fileURLToPath(built))) {
    cli = await import(built.href);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    cli = await import(new URL("../src/stand-in/cli.ts", import.meta.url).href);
  }
} catch (error) {
  process.stderr.write(
    `stand-in: cannot load the stand-in (${error instanceof Error ? error.message.split("\n")[0] : error}); build it with "pnpm build" or install tsx\n`,
  );
  process.exit(1);
}
await cli.runStandInCli(process.argv.slice(2));
