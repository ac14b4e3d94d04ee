import { PNG } from "pngjs";

/** What {@link renderPng} draws. */
export interface RenderPngInput {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** The prompt; it picks the colours. */
  readonly prompt: string;
  /** The seed; it picks the pattern. */
  readonly seed: number;
  /** Draw the noisy image an interrupted sampler returns. @default false */
  readonly noisy?: boolean;
  /** Text of the `parameters` tEXt chunk (Forge's infotext). */
  readonly parameters: string;
}

/** Rows drawn before yielding to the event loop. */
const ROWS_PER_SLICE = 64;

/** A 32-bit FNV-1a hash of a string. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** mulberry32: a small deterministic PRNG. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Draws a deterministic picture from prompt and seed and encodes it as a PNG
 * with a `parameters` tEXt chunk. The same input gives the same bytes.
 * Drawing yields to the event loop every few rows and compression runs on
 * zlib's thread pool, so a large image does not stall the server.
 */
export async function renderPng(input: RenderPngInput): Promise<Buffer> {
  const { width, height } = input;
  const colours = random(hashString(input.prompt));
  const pattern = random(input.seed ^ 0x9e3779b9);
  const a = [colours() * 255, colours() * 255, colours() * 255];
  const b = [colours() * 255, colours() * 255, colours() * 255];
  const stripe = 4 + Math.floor(pattern() * 28);
  const angle = pattern() * Math.PI;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const noise = random(input.seed + 1);

  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    if (y > 0 && y % ROWS_PER_SLICE === 0) await yieldToLoop();
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const band = Math.floor((x * dx + y * dy) / stripe) % 2 === 0 ? 1 : 0.7;
      const offset = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        let value = ((a[c] ?? 0) * (1 - t) + (b[c] ?? 0) * t) * band;
        if (input.noisy) value = value * 0.3 + noise() * 180;
        png.data[offset + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
      png.data[offset + 3] = 255;
    }
  }
  const encoded = await pack(png);
  return withTextChunk(encoded, "parameters", input.parameters);
}

function pack(png: PNG): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    png
      .pack()
      .on("data", (part: Buffer) => parts.push(part))
      .on("end", () => resolve(Buffer.concat(parts)))
      .on("error", reject);
  });
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Inserts a Latin-1 tEXt chunk right after the IHDR chunk. */
function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  const data = Buffer.concat([
    Buffer.from(keyword, "latin1"),
    Buffer.from([0]),
    Buffer.from(text, "latin1"),
  ]);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write("tEXt", 4, "latin1");
  data.copy(chunk, 8);
  chunk.writeUInt32BE(
    crc32(chunk.subarray(4, 8 + data.length)),
    8 + data.length,
  );
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 crc).
  const afterHeader = 8 + 25;
  return Buffer.concat([
    png.subarray(0, afterHeader),
    chunk,
    png.subarray(afterHeader),
  ]);
}
