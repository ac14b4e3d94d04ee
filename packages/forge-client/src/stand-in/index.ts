export { runStandInCli, STAND_IN_USAGE } from "./cli.js";
export type { StateSnapshot } from "./forge-state.js";
export type { ForgeException } from "./run-generation.js";
export {
  type StandInForge,
  type StandInForgeOptions,
  startStandInForge,
} from "./stand-in-forge.js";
export { GATEWAY_TIMEOUT_HTML } from "./stand-in-routes.js";
