// The adviser's commands, on the bank the server uses (data-dir.ts):
//   pnpm --filter bank-login unlock [--data <dir>] <id>          lift a lock, end the customer's sessions
//   pnpm --filter bank-login reset-password [--data <dir>] <id>  a new provisional SOGENET password
//   pnpm --filter bank-login revoke-transactions [--data <dir>] <id>  « révocation des transactions par votre
//                                                        conseiller » on the professional contract of <id>
//   pnpm --filter bank-login change-admin [--data <dir>] <id>    « changement d'administrateur » of that contract
// Each of the last three is a security event (@capkit/verify/approvals): the Progéliance passerelle is switched
// off with it and every session opened through it ends (docs/architecture.md §12.3).
import { randomInt } from "node:crypto";
import { openBank } from "./bank.js";
import { hasBank, resolveDataDir } from "./data-dir.js";

const [command, ...args] = process.argv.slice(2);
const at = args.indexOf("--data");
const given = at >= 0 ? args.splice(at, 2)[1] : undefined;
const id = args[0];
const COMMANDS = ["unlock", "reset-password", "revoke-transactions", "change-admin"];
if (!COMMANDS.includes(command ?? "") || !id || args.length !== 1 || (at >= 0 && !given)) {
  console.error(`usage: ${COMMANDS.join("|")} [--data <dir>] <user code or identifiant>`);
  process.exit(2);
}
const dir = resolveDataDir(given);
if (!hasBank(dir)) {
  console.error(
    `${command}: no bank in ${dir} — give the server's data directory: --data <dir> or BANK_DATA`,
  );
  process.exit(2);
}
console.log(`${command}: data directory ${dir}`);
const bank = await openBank(dir, { create: false });
try {
  const customer = bank.customers.find(id.toUpperCase()) ?? bank.customers.find(id);
  if (!customer) {
    console.error(`${command}: no customer ${id} in this bank`);
    process.exitCode = 1;
  } else if (command === "revoke-transactions" || command === "change-admin") {
    const space = customer.bank === "progeliance" ? "pro" : "perso";
    const contract =
      customer.bank === "coopanet" ? undefined : bank.passerelle.contractOf(space, customer.id);
    if (!contract) {
      console.error(`${command}: ${customer.id} has no professional contract`);
      process.exitCode = 1;
    } else {
      const e = await bank.codes.events().record({
        type: command === "change-admin" ? "admin-change" : "adviser-revocation",
        subject: { kind: "contract", id: contract.id },
        cause:
          command === "change-admin"
            ? "changement d'administrateur"
            : "révocation des transactions par le conseiller",
      });
      console.log(
        `${command}: contract ${contract.id}: event ${e.seq} recorded; ${e.grantsRevoked} grant(s) revoked, ${e.operationsCancelled} operation(s) cancelled`,
      );
    }
  } else if (command === "unlock") {
    await bank.codes.unlock(customer.bank, customer.id);
    const ended = bank.sessions.endAllOf(customer.id);
    console.log(`unlock: ${customer.id} (${customer.bank}) unlocked; ${ended} session(s) ended`);
  } else if (!customer.password) {
    console.error(`reset-password: ${customer.id} logs in with a device, not a password`);
    process.exitCode = 1;
  } else {
    // The new provisional password, for the adviser to hand over; the customer must change it at login.
    const provisional = String(randomInt(0, 1_000_000)).padStart(6, "0");
    bank.customers.setPassword(customer.id, await bank.passwords.hash(provisional), "adviser");
    // « Réinitialisation du code secret »: a security event (whoever asked may not be the customer).
    await bank.codes.events().record({
      type: "password-reset",
      subject: { kind: "user", id: `${customer.bank}:${customer.id}` },
      cause: "réinitialisation du code secret par le conseiller",
    });
    await bank.codes.unlock(customer.bank, customer.id);
    const ended = bank.sessions.endAllOf(customer.id);
    console.log(
      `reset-password: ${customer.id}: provisional password ${provisional} (to change at the next login); ${ended} session(s) ended`,
    );
  }
} finally {
  await bank.close();
}
