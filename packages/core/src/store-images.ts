import { newId } from "./ids.js";
import type { Job, JobImage } from "./job.js";
import type { GenerateResult } from "./ports/gpu-backend.js";
import type { ImageStore } from "./ports/image-store.js";

/**
 * Stores a generation's images under fresh, unguessable keys (job id,
 * index, random id). Success is recorded only after this resolves.
 */
export async function storeImages(
  images: ImageStore,
  job: Job,
  result: GenerateResult,
): Promise<JobImage[]> {
  const stored: JobImage[] = [];
  for (const [index, image] of result.images.entries()) {
    const key = `${job.id}/${index}-${newId()}.png`;
    const { url } = await images.put({
      key,
      data: image.data,
      contentType: image.contentType,
    });
    stored.push({
      key,
      url,
      width: image.width,
      height: image.height,
      seed: image.seed,
    });
  }
  return stored;
}
