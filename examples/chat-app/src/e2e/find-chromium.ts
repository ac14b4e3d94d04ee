import { existsSync } from "node:fs";

/** Where Debian (and CI's `.ci/run`) installs Chromium. */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The launch flags that work in containers without a GPU or sandbox. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The Chromium to drive: `CHROMIUM_PATH`, else Debian's. Null when none is
 * installed; under `CI=true` that is an error, not a skip.
 */
export function findChromium(): string | null {
  const given = process.env.CHROMIUM_PATH;
  const found = [given, ...CANDIDATES].find(
    (path): path is string => !!path && existsSync(path),
  );
  if (found) return found;
  if (process.env.CI === "true") {
    throw new Error(
      "Chromium is missing and CI=true: install it with `apt-get install chromium`",
    );
  }
  console.warn(
    "skipping the chat app's browser test: no Chromium found (apt-get install chromium)",
  );
  return null;
}
