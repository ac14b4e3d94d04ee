#!/usr/bin/env node
// Starts the stand-in Forge server: the built code when present, else the
// TypeScript source through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/stand-in/cli.js", import.meta.url);
let cli;
if (existsSync(fileURLToPath(built))) {
  cli = await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(new URL("../src/stand-in/cli.ts", import.meta.url).href);
}
await cli.runStandInCli(process.argv.slice(2));
