import { MemoryEventLog } from "../memory/memory-event-log.js";
import { MemoryImageStore } from "../memory/memory-image-store.js";
import { MemoryJobStore } from "../memory/memory-job-store.js";
import { MemoryMessageStore } from "../memory/memory-message-store.js";
import type { ConformanceStores } from "./harness.js";

/** Fresh in-memory stores in the shape the conformance suite takes. */
export async function memoryStores(): Promise<ConformanceStores> {
  const messages = new MemoryMessageStore();
  return {
    jobs: new MemoryJobStore(),
    messages,
    events: new MemoryEventLog(),
    images: new MemoryImageStore(),
    createMessage: (id, metadata) => messages.create(id, metadata),
    deleteMessage: (id) => messages.delete(id),
    close: async () => {},
  };
}
