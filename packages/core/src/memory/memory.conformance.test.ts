import { runConformance } from "../testing/conformance.js";
import { memoryStores } from "../testing/memory-stores.js";

runConformance("memory", memoryStores);
