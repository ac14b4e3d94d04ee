import type { ImageObject, ImageStore } from "../ports/image-store.js";

/** Options of {@link MemoryImageStore}. */
export interface MemoryImageStoreOptions {
  /** Builds the URL of a stored key. @default `/images/${key}` */
  readonly urlFor?: (key: string) => string;
}

/** Images in one process's memory, for tests and demos. */
export class MemoryImageStore implements ImageStore {
  readonly #images = new Map<
    string,
    { data: Uint8Array; contentType: string }
  >();
  readonly #urlFor: (key: string) => string;

  constructor(options: MemoryImageStoreOptions = {}) {
    this.#urlFor = options.urlFor ?? ((key) => `/images/${key}`);
  }

  async put(image: ImageObject): Promise<{ url: string }> {
    this.#images.set(image.key, {
      data: new Uint8Array(image.data),
      contentType: image.contentType,
    });
    return { url: this.#urlFor(image.key) };
  }

  async get(
    key: string,
  ): Promise<{ data: Uint8Array; contentType: string } | null> {
    return this.#images.get(key) ?? null;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#images.delete(key);
  }

  /** Number of stored images. */
  get size(): number {
    return this.#images.size;
  }
}
