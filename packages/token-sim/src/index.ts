export * from "./card.js";
export * from "./card-profiles.js";
export * from "./clock.js";
export * from "./sesame-reader.js";
export * from "./sgpass-token.js";
export * from "./state-file.js";
export * from "./vpcd-bridge.js";
