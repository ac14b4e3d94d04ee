export type { StateSnapshot } from "./forge-state.js";
export { GATEWAY_TIMEOUT_HTML } from "./stand-in-routes.js";
export type { ForgeException } from "./run-generation.js";
export {
  type StandInForge,
  type StandInForgeOptions,
  startStandInForge,
} from "./stand-in-forge.js";
export { runStandInCli } from "./cli.js";
