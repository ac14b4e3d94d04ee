import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, extname, resolve, sep } from "node:path";
import { newId } from "../ids.js";
import type { ImageObject, ImageStore } from "../ports/image-store.js";

/** Options of {@link FsImageStore}. */
export interface FsImageStoreOptions {
  /** The folder images are written under; created when missing. */
  readonly root: string;
  /** Builds the URL of a stored key. @default `/images/${key}` */
  readonly urlFor?: (key: string) => string;
}

const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
};

/**
 * Images as files under one folder: the embedded default. Writes go to a
 * temporary file first and are renamed into place, so a reader never sees
 * half an image. Keys that would leave the folder are refused.
 */
export class FsImageStore implements ImageStore {
  readonly #root: string;
  readonly #urlFor: (key: string) => string;

  constructor(options: FsImageStoreOptions) {
    this.#root = resolve(options.root);
    this.#urlFor = options.urlFor ?? ((key) => `/images/${key}`);
  }

  async put(image: ImageObject): Promise<{ url: string }> {
    const path = this.#path(image.key);
    if (!path) throw new Error(`image key "${image.key}" is not allowed`);

    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${newId()}.tmp`;
    await writeFile(temporary, image.data);
    await rename(temporary, path);
    return { url: this.#urlFor(image.key) };
  }

  async get(
    key: string,
  ): Promise<{ data: Uint8Array; contentType: string } | null> {
    const path = this.#path(key);
    if (!path) return null;
    try {
      const data = await readFile(path);
      const contentType =
        TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
      return { data: new Uint8Array(data), contentType };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const path = this.#path(key);
      if (path) await rm(path, { force: true });
    }
  }

  /** The file of a key, or null when the key would leave the root. */
  #path(key: string): string | null {
    if (typeof key !== "string" || key.length === 0 || key.includes("\0")) {
      return null;
    }
    const path = resolve(this.#root, key);
    return path.startsWith(this.#root + sep) ? path : null;
  }
}
