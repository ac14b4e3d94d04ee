import { readFile, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/**
 * Serves the built UI from `root`; paths without a file extension get
 * `index.html`, so the app's own routes survive a reload.
 */
export async function serveStatic(
  root: string,
  pathname: string,
  response: ServerResponse,
): Promise<boolean> {
  const base = resolve(root);
  const wanted = extname(pathname) === "" ? "/index.html" : pathname;
  const path = resolve(base, `.${decodeURIComponent(wanted)}`);
  if (!path.startsWith(base + sep)) return false;

  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
  } catch {
    return false;
  }
  const data = await readFile(path);
  const immutable = pathname.startsWith("/assets/");
  response.writeHead(200, {
    "content-type": TYPES[extname(path)] ?? "application/octet-stream",
    "content-length": data.byteLength,
    "cache-control": immutable
      ? "public, max-age=31536000, immutable"
      : "no-cache",
  });
  response.end(data);
  return true;
}
