// The pure simulators: no Node API, so they run in browsers too (@capkit/web). The state files and the vpcd
// bridge need the file system and sockets: they are in "@capkit/token-sim/node" (src/node.ts). The in-app
// virtual Digipass is "@capkit/token-sim/soft-digipass": it brings @capkit/provision and its curves, which
// the card and token simulators (and the CLI's start-up) do without.
export * from "./card.js";
export * from "./card-profiles.js";
export * from "./clock.js";
export {
  READER_EVENTS,
  READER_STATES,
  type ReaderEvent,
  type ReaderFunction,
  type ReaderState,
  SESAME_DELAYS,
  SESAME_FUNCTIONS,
  SESAME_GUARDS,
  SESAME_MACHINE,
  SESAME_PIN_LENGTH,
  SESSION_EVENTS,
  type Transition,
} from "./sesame/machine.js";
export { type ReaderKey, type Screen, SesameReader, type SesameReaderOptions } from "./sesame/reader.js";
export * from "./sgpass-token.js";
