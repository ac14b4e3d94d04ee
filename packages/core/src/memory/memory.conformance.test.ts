import { runConformance } from "../testing/conformance.js";
import { MemoryEventLog } from "./memory-event-log.js";
import { MemoryImageStore } from "./memory-image-store.js";
import { MemoryJobStore } from "./memory-job-store.js";
import { MemoryMessageStore } from "./memory-message-store.js";

runConformance("memory", async () => {
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
});
