import type { StoreFactory } from "./harness.js";
import { describeMessageAndEventConformance } from "./message-event-conformance.js";
import { describeScenarios } from "./scenario-conformance.js";
import {
  type ConformanceOptions,
  describeStoreConformance,
} from "./store-conformance.js";

/**
 * The one conformance suite every adapter runs: the port-level contract and
 * the scenarios that apply to any store. Call it from a test file with a
 * factory that makes isolated stores per test.
 */
export function runConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describeStoreConformance(name, factory, options);
  describeMessageAndEventConformance(name, factory);
  describeScenarios(name, factory);
}
