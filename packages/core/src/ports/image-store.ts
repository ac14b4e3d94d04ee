/** An image to store. */
export interface ImageObject {
  /** Key, unique per image. */
  readonly key: string;
  /** The encoded bytes. */
  readonly data: Uint8Array;
  /** MIME type, such as `image/png`. */
  readonly contentType: string;
}

/**
 * Where images live. A job succeeds only once its images are stored here.
 * Keys are unguessable; serve them only through URLs that check the owner
 * or carry the key itself.
 */
export interface ImageStore {
  /** Stores an image; returns the URL clients fetch it from. */
  put(image: ImageObject): Promise<{ readonly url: string }>;
  /** Reads an image, or null. */
  get(key: string): Promise<{ data: Uint8Array; contentType: string } | null>;
  /** Deletes images; missing keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
}
