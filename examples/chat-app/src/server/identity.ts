import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The cookie that names a browser's user. */
export const IDENTITY_COOKIE = "imagejobs_user";

const VALUE = /^u_[A-Za-z0-9_-]{22}$/;

/** The user id in a request's cookie, or null when there is none. */
export function readIdentity(request: IncomingMessage): string | null {
  const header = request.headers.cookie ?? "";
  for (const part of header.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name !== IDENTITY_COOKIE) continue;
    const value = rest.join("=");
    if (VALUE.test(value)) return value;
  }
  return null;
}

/**
 * The request's user; a browser without one gets a new, unguessable id in
 * an httpOnly cookie. The id is the bearer secret of this simple identity,
 * so it never appears in a URL or a response body.
 */
export function ensureIdentity(
  request: IncomingMessage,
  response: ServerResponse,
): string {
  const found = readIdentity(request);
  if (found) return found;

  const id = `u_${randomBytes(16).toString("base64url")}`;
  response.setHeader(
    "set-cookie",
    `${IDENTITY_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`,
  );
  return id;
}
