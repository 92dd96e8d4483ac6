/**
 * Simulated bank authentication hardware, without Node APIs (browsers run it too): a CAP/DPA chip card that
 * answers any reader, the Sésame reader's state machine around it, an SGpass-style OATH token, and the clocks
 * they run on. The card's state files and the vpcd bridge to a real pcscd are in `@capkit/token-sim/node`; the
 * in-app virtual Digipass is `@capkit/token-sim/soft-digipass`.
 *
 * @packageDocumentation
 */

// A CAP/DPA chip card: its state, its profiles, and the connection the engine and readers talk to.
export {
  issuerRecordOf,
  newSimCardState,
  parseSimCardState,
  SIM_ATR,
  SIM_CARD_FORMAT,
  SIM_COLD_ATR,
  type SimCardState,
  SimulatedCard,
  type SimulatedCardOptions,
  simCardProfile,
} from "./card.js";
export { SIM_CARD_PROFILES, type SimCardProfile } from "./card-profiles.js";
// Time: the system clock, and a clock tests move by hand.
export { type Clock, FakeClock, systemClock } from "./clock.js";
export { type ReaderEvent, type ReaderState, SESAME_DELAYS, SESAME_PIN_LENGTH } from "./sesame/machine.js";
// The Sésame reader: keys in, screens out, the card behind it.
export {
  type ReaderKey,
  type Screen,
  SesameReader,
  type SesameReaderOptions,
} from "./sesame/reader.js";
// An SGpass-style OATH token (button, PIN, keypad OCRA).
export {
  SGPASS_DELAYS,
  type SgpassConfig,
  SgpassToken,
  TOKEN_PIN_TRIES,
  type TokenScreen,
  type TokenState,
} from "./sgpass-token.js";
