import { CapkitError } from "@capkit/core";
import type { ProvisioningStatus } from "@capkit/verify/provisioning";
import type { Command } from "commander";
import { type Output, type Run, usage } from "../shared/output.js";
import { type StoreOptions, storeOptions } from "../shared/store.js";
import { actorName, asStoreError, openVerifier } from "./verify.js";

/** The dev outbox file `provision start` writes to and `capkit outbox` reads. */
export const DEFAULT_OUTBOX = "capkit-outbox.db";

interface ProvisionOptions extends StoreOptions {
  user: string;
  serverIdentity: string;
  features: string;
  outbox: string;
}

/**
 * The Provisioner on the verifier's database (its tables beside the verifier's), for support staff and
 * development: codes go to the dev outbox file, never to a phone. `create`: `start` may make a new database.
 */
async function withProvisioner<T>(
  o: ProvisionOptions,
  out: Output,
  create: boolean,
  contact: { phone?: string; address?: string } | undefined,
  body: (p: import("@capkit/verify/provisioning").Provisioner) => Promise<T>,
): Promise<T> {
  const opened = await openVerifier(o, out, create);
  try {
    const { Provisioner } = await import("@capkit/verify/provisioning");
    const sqlite = await import("@capkit/verify/sqlite");
    const actor = actorName();
    const store =
      opened.store instanceof sqlite.SqliteStore
        ? new sqlite.SqliteProvisioningStore(opened.store, { actor })
        : await (await import("@capkit/verify/postgres")).PostgresProvisioningStore.open(
            opened.store as import("@capkit/verify/postgres").PostgresStore,
            { actor },
          );
    // The outbox is a SQLite file of its own, its table named with the verifier's prefix (no schema in SQLite).
    const { tablePrefix } = opened.where.tables;
    const outbox = new sqlite.SqliteDevOutbox(o.outbox, tablePrefix === undefined ? {} : { tablePrefix });
    try {
      const provisioner = new Provisioner({
        verifier: opened.verifier,
        store,
        keys: opened.keys,
        policy: { serverIdentity: o.serverIdentity, features: featureList(o.features) },
        directory: async () => contact,
        sms: outbox,
        letters: outbox,
        // The bank's server checks the password at the activation's second step; this command never runs it.
        password: async () => {
          throw new CapkitError("INPUT_INVALID", "capkit provision does not check banking passwords");
        },
      });
      return await body(provisioner);
    } finally {
      await outbox.close();
    }
  } catch (e) {
    throw asStoreError(e, opened.name);
  } finally {
    await opened.close();
  }
}

function checkUser(user: string): void {
  if (!/^[\w.@:+-]{1,128}$/.test(user)) throw usage("--user is 1–128 letters, digits or . @ : + - _");
}

function featureList(text: string): ("sms" | "letter" | "web-session" | "password")[] {
  const list = text.split(",").map((f) => f.trim());
  for (const f of list)
    if (!["sms", "letter", "web-session", "password"].includes(f))
      throw usage(`unknown feature ${f}`, "features are sms, letter, web-session, password");
  return list as ("sms" | "letter" | "web-session" | "password")[];
}

function provisionOptions(cmd: Command): Command {
  return storeOptions(cmd)
    .requiredOption("--user <id>", "the customer's identifiant (the verifier's user)")
    .option("--server-identity <name>", "the bank's SPAKE2 identity (its host name)", "localhost")
    .option("--features <list>", "the activation's features, comma-separated", "sms,password")
    .option("--outbox <file>", "the development outbox the codes go to", DEFAULT_OUTBOX);
}

const when = (ms: number) => new Date(ms).toISOString();

function describeStatus(s: ProvisioningStatus): string {
  const lines = [`${s.user}${s.serial ? ` (serial ${s.serial})` : ""}`];
  lines.push(s.instances.length ? "devices:" : "devices: none");
  for (const i of s.instances)
    lines.push(
      `  ${i.credential}  slot ${i.slot}  ${i.state}${i.reason ? ` (${i.reason})` : ""}  app ${i.appVersion}  since ${when(i.createdAt)}`,
    );
  lines.push(s.activations.length ? "activations (newest first):" : "activations: none");
  for (const a of s.activations)
    lines.push(
      `  ${a.activationId}  ${a.ended ?? a.phase}  tries ${a.tries}, failures ${a.failures}  expires ${when(a.expiresAt)}`,
    );
  lines.push(
    `codes sent in the last 24 h: ${s.starts.last24h} (next allowed ${when(s.starts.nextAllowedAt)})`,
  );
  if (s.grace) lines.push(`grace period until ${when(s.grace.until)}`);
  return lines.join("\n");
}

export function registerProvision(program: Command, run: Run): void {
  const provision = program
    .command("provision")
    .description(
      "the in-app token's activation: start one (code to the dev outbox), a user's devices, reset",
    );

  provisionOptions(
    provision.command("start").description("start an activation: the code goes to the development outbox"),
  )
    .option("--phone <number>", "where the SMS code goes (feature sms)")
    .option("--address <text>", "where the letter code goes (feature letter)")
    .option("--app-version <version>", "the app's version", "5.2.0")
    .option("--slot <n>", "the device slot (a new activation replaces the slot's device)", "1")
    .action((o: ProvisionOptions & { phone?: string; address?: string; appVersion: string; slot: string }) =>
      run(async (out) => {
        // Checked before the database is opened (or made): bad input stores nothing.
        const features = featureList(o.features);
        if (features.includes("sms") && !o.phone) throw usage("the feature sms needs --phone");
        if (features.includes("letter") && !o.address) throw usage("the feature letter needs --address");
        if (!/^[0-9]{1,2}$/.test(o.slot)) throw usage("--slot is a number");
        const { parseAppVersion, provisioningPolicy } = await import("@capkit/verify/provisioning");
        checkUser(o.user);
        parseAppVersion(o.appVersion, "--app-version");
        const policy = provisioningPolicy({ serverIdentity: o.serverIdentity, features });
        if (Number(o.slot) < 1 || Number(o.slot) > policy.maxDevices)
          throw usage(`--slot is 1 to ${policy.maxDevices}`);
        const contact = {
          ...(o.phone ? { phone: o.phone } : {}),
          ...(o.address ? { address: o.address } : {}),
        };
        return withProvisioner(o, out, true, contact, async (p) => {
          try {
            const { offer, delivered } = await p.start({
              user: o.user,
              appVersion: o.appVersion,
              slot: Number(o.slot),
            });
            const d = await delivered;
            out.result(
              { ...offer, sent: d.sent, failed: d.failed, outbox: o.outbox },
              [
                `activation ${offer.activationId} for ${o.user}, expires ${new Date(offer.expiresAt * 1000).toISOString()}`,
                `registration id ${offer.regId}, server identity ${offer.serverIdentity}`,
                ...d.sent.map((f) => `${f} code sent to the development outbox ${o.outbox} (capkit outbox)`),
                ...d.failed.map((f) => `${f} code NOT sent`),
                ...(offer.webSession ? [`web-session code ${offer.webSession}`] : []),
              ].join("\n"),
            );
            return d.failed.length > 0 ? 1 : 0;
          } catch (e) {
            if (!(e instanceof CapkitError) || e.code !== "ACTIVATION_RATE_LIMITED") throw e;
            const retryAfter = e.details?.["retryAfter"] as number;
            out.result(
              { started: false, rateLimited: true, retryAfter },
              `not started: too many codes for ${o.user}; the next in ${retryAfter} s (or capkit provision reset)`,
            );
            return 1;
          }
        });
      }),
    );

  provisionOptions(
    provision.command("status").description("a user's devices, activations and codes sent"),
  ).action((o: ProvisionOptions) =>
    run(async (out) => {
      checkUser(o.user);
      return withProvisioner(o, out, false, undefined, async (p) => {
        const s = await p.status(o.user);
        out.result(s, () => describeStatus(s));
        return 0;
      });
    }),
  );

  provisionOptions(
    provision
      .command("reset")
      .description(
        "end a user's activations and revoke its devices (« mot de passe perdu »); the SMS count too",
      ),
  )
    .option("--reason <code>", "what the devices are told when they log in (lower-case, a-z 0-9 -)", "reset")
    .action((o: ProvisionOptions & { reason: string }) =>
      run(async (out) => {
        checkUser(o.user);
        if (!/^[a-z][a-z0-9-]{0,31}$/.test(o.reason))
          throw usage("--reason is 1 to 32 lower-case letters, digits or -, from a letter");
        return withProvisioner(o, out, false, undefined, async (p) => {
          const r = await p.reset(o.user, { reason: o.reason });
          out.result(
            { user: o.user, reason: o.reason, ...r },
            `${o.user}: ${r.activations} activation(s) ended, ${r.instances} device(s) revoked (${o.reason})`,
          );
          return 0;
        });
      }),
    );
}
