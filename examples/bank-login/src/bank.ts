import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@capkit/core";
import { issuerRecordOf, newSimCardState, parseSimCardState, type SimCardState } from "@capkit/token-sim";
import { type SoftwareKeyMaterial, SoftwareKeyProvider } from "@capkit/verify";
import { Codes } from "./codes.js";
import { hashPassword } from "./passwords.js";
import { Users } from "./users.js";

/**
 * The bank's data directory: customers (bank.db), the verifier's state (verify.db), its keys (keys.json) and
 * the simulated devices handed to the demo customers (devices.json: a Sésame card and an SGpass secret). All
 * created on first start; the secret files are 0600.
 */
export const DEMO = {
  coopanet: { user: "DEMO2026", name: "Camille Martin", cardPin: "1234" },
  sogenetPassword: { user: "10203040", name: "Dominique Bernard", firstPassword: "112233" },
  sogenetSgpass: { user: "50607080", name: "Alex Petit" },
} as const;

export interface Devices {
  readonly card: SimCardState;
  readonly cardCredential: string;
  readonly sgpass: { readonly id: string; readonly secretHex: string };
}

export interface Bank {
  readonly users: Users;
  readonly codes: Codes;
  readonly devices: Devices;
  close(): Promise<void>;
}

export async function openBank(dir: string): Promise<Bank> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keysPath = join(dir, "keys.json");
  const devicesPath = join(dir, "devices.json");
  const fresh = !existsSync(devicesPath);
  if (!existsSync(keysPath)) {
    // The demo card's record carries its test issuer key in clear, hence allowTestKeys (never in production).
    writeSecret(keysPath, SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
  }
  const keys = JSON.parse(readFileSync(keysPath, "utf8")) as SoftwareKeyMaterial;
  const users = new Users(join(dir, "bank.db"));
  const codes = new Codes(join(dir, "verify.db"), keys);
  let devices: Devices;
  if (fresh) {
    devices = await seed(users, codes);
    writeSecret(devicesPath, devices);
  } else {
    const d = JSON.parse(readFileSync(devicesPath, "utf8")) as Devices;
    devices = { ...d, card: parseSimCardState(d.card) };
  }
  return {
    users,
    codes,
    devices,
    close: async () => {
      users.close();
      await codes.close();
    },
  };
}

async function seed(users: Users, codes: Codes): Promise<Devices> {
  // The `uk` card profile (IAF A0): its SIGNATURE binds the amount, which the transfer page needs. The
  // `sesame` profile's IAF (00) has no amount flag, so a Sésame-profile card could only sign the challenge.
  const card = newSimCardState("uk", DEMO.coopanet.cardPin);
  const cardCredential = `card-${DEMO.coopanet.user}`;
  await codes.enrollCard(DEMO.coopanet.user, cardCredential, issuerRecordOf(card), card.atc);
  users.add({
    id: DEMO.coopanet.user,
    name: DEMO.coopanet.name,
    bank: "coopanet",
    password: undefined,
    mustChange: false,
    credential: cardCredential,
  });

  users.add({
    id: DEMO.sogenetPassword.user,
    name: DEMO.sogenetPassword.name,
    bank: "sogenet",
    password: await hashPassword(DEMO.sogenetPassword.firstPassword),
    mustChange: true,
    credential: undefined,
  });

  const secret = randomBytes(20);
  const tokenCredential = `sgpass-${DEMO.sogenetSgpass.user}`;
  await codes.enrollTotp(DEMO.sogenetSgpass.user, tokenCredential, secret);
  users.add({
    id: DEMO.sogenetSgpass.user,
    name: DEMO.sogenetSgpass.name,
    bank: "sogenet",
    password: undefined,
    mustChange: false,
    credential: tokenCredential,
  });
  return { card, cardCredential, sgpass: { id: tokenCredential, secretHex: toHex(secret) } };
}

function writeSecret(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: "wx" });
}
