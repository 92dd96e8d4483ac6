/**
 * The Node-only parts of the simulators: the card's state files (node:fs; one program at a time per file) and
 * the vpcd bridge that serves a simulated card to a real pcscd (node:net). The simulators themselves are in
 * `@capkit/token-sim`.
 *
 * @packageDocumentation
 */

// Card state files: the card's keys, PIN, tries and ATC, written whole on every change, mode 0600.
export {
  createCardStateFile,
  openCardStateFile,
  readCardStateFile,
  writeCardStateFile,
  writeSecretJsonFile,
} from "./state-file.js";

// The vpcd bridge: the simulated card in vsmartcard's virtual reader.
export { VPCD_DEFAULT_PORT, VpcdBridge, type VpcdBridgeOptions } from "./vpcd-bridge.js";
