import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

const root = new URL(".", import.meta.url).pathname;
// Only these folders may use Node's own modules and globals.
const nodeOnly = ["node", "testing"];
const forbidden = [
  /from\s+["']node:/,
  /require\(["']node:/,
  /\bBuffer\./,
  /\bsetImmediate\(/,
  /\bprocess\.(env|exit|nextTick|on)\b/,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      return nodeOnly.includes(relative(root, path)) ? [] : sources(path);
    }
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

it("the root and client entries use nothing Node-only, so they run in browsers", () => {
  const offenders = sources(root).flatMap((path) => {
    const text = readFileSync(path, "utf8");
    return forbidden
      .filter((pattern) => pattern.test(text))
      .map((pattern) => `${relative(root, path)}: ${pattern}`);
  });
  expect(sources(root).length).toBeGreaterThan(20);
  expect(offenders).toEqual([]);
});
