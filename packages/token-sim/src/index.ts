export * from "./card.js";
export * from "./card-profiles.js";
