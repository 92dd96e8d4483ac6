import type { Command } from "commander";
import type { Run } from "./shared/output.js";

/** Defines a group's commands on the program. */
export type RegisterGroup = (program: Command, run: Run) => void;

/**
 * The command groups, in the order `capkit --help` lists them, each loaded only when it is defined. One line
 * per group: scripts/build.mjs makes a bundle per line (this table with that line alone), and the executable
 * loads the bundle of the group a command line names (command-word.ts).
 */
export const COMMAND_GROUPS: Record<string, () => Promise<RegisterGroup>> = {
  demo: async () => (await import("./commands/demo.js")).registerDemo,
  cap: async () => (await import("./commands/cap.js")).registerCap,
  readers: async () => (await import("./commands/readers.js")).registerReaders,
  card: async () => (await import("./commands/card.js")).registerCard,
  apdu: async () => (await import("./commands/apdu.js")).registerApdu,
  doctor: async () => (await import("./commands/doctor.js")).registerDoctor,
  otp: async () => (await import("./commands/otp.js")).registerOtp,
  verify: async () => (await import("./commands/verify.js")).registerVerify,
  receipt: async () => (await import("./commands/receipt.js")).registerReceipt,
  sim: async () => (await import("./commands/sim.js")).registerSim,
  provision: async () => (await import("./commands/provision.js")).registerProvision,
  outbox: async () => (await import("./commands/outbox.js")).registerOutbox,
};
