/** A random, unguessable id (UUID v4), in Node and browsers alike. */
export function newId(): string {
  return globalThis.crypto.randomUUID();
}
