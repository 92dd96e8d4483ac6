import { existsSync, writeFileSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type { CredentialStatus, EnrollRequest } from "@capkit/verify";
import type { Command } from "commander";
import { readText } from "../shared/input.js";
import { type Output, usage } from "../shared/output.js";
import { resolveStore, type StoreOptions, storeName, storeOptions } from "../shared/store.js";

/**
 * The verifier with its store and keys. Keys come from --keys, CAPKIT_KEYS, or a key file next to the SQLite
 * database (mode 0600) that accepts simulated cards' test keys — a local test setup; production passes its
 * issuer keys with --keys or CAPKIT_KEYS. Only `enroll` (`create`) makes a new database and its key file: any
 * other command on a missing database is a typo, and a database without its key file cannot be opened.
 */
export async function openVerifier(o: StoreOptions, out: Output, create = false) {
  const v = await import("@capkit/verify");
  // Which database: one rule in shared/store.ts (--db, --pg as a value, - or @FILE, CAPKIT_DB, DATABASE_URL).
  const where = await resolveStore(o);
  const db = where.kind === "sqlite" ? where.file : undefined;
  const dbExists = db === undefined || existsSync(db);
  if (!dbExists && !create)
    throw new CapkitError("STORE_UNAVAILABLE", `no database at ${db}`, {
      hint: "check --db or CAPKIT_DB (capkit verify enroll creates a database with its first credential)",
    });
  if (where.kind === "postgres" && !o.keys && !process.env["CAPKIT_KEYS"])
    throw usage(
      "with PostgreSQL, give the keys with --keys or CAPKIT_KEYS (every server instance needs the same)",
    );
  // The store first: a database that cannot be used is a store error whatever the keys.
  // Only the driver this store needs is loaded (start-up time, and pg is not needed for SQLite at all).
  const store =
    where.kind === "postgres"
      ? await (await import("@capkit/verify/postgres")).PostgresStore.connect(where.url)
      : await (async () => {
          const { SqliteStore } = await import("@capkit/verify/sqlite");
          return storeError(() => new SqliteStore(where.file), where.file);
        })();
  let keys: InstanceType<typeof v.SoftwareKeyProvider>;
  try {
    if (o.keys) keys = v.SoftwareKeyProvider.fromFile(o.keys);
    else if (process.env["CAPKIT_KEYS"]) keys = v.SoftwareKeyProvider.fromEnv();
    else if (db !== undefined) {
      const path = `${db}.keys.json`;
      if (!existsSync(path)) {
        if (dbExists)
          throw new CapkitError("KEY_INVALID", `${db} has no key file (${path} is missing)`, {
            hint: "give the database's keys with --keys or CAPKIT_KEYS; without them its secrets cannot be read",
          });
        writeFileSync(
          path,
          `${JSON.stringify(v.SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }), null, 2)}\n`,
          { mode: 0o600, flag: "wx" },
        );
        out.info(`created ${path} (test keys; keep it private)`);
      }
      keys = v.SoftwareKeyProvider.fromFile(path);
    } else throw usage("with PostgreSQL, give the keys with --keys or CAPKIT_KEYS");
  } catch (e) {
    await store.close();
    throw e;
  }
  return { verifier: new v.Verifier({ store, keys }), close: () => store.close(), name: storeName(where) };
}

/**
 * A database the driver cannot use (read-only, locked, damaged) is a store problem (exit 4), not a capkit
 * bug: SQLite's and PostgreSQL's own errors become STORE_UNAVAILABLE.
 */
function storeError<T>(f: () => T, db: string): T {
  try {
    return f();
  } catch (e) {
    throw asStoreError(e, db);
  }
}

function asStoreError(e: unknown, db: string | undefined): unknown {
  if (e instanceof CapkitError) return e;
  const code = (e as { code?: unknown })?.code;
  const driver =
    typeof code === "string" &&
    (code.startsWith("SQLITE_") || /^[0-9A-Z]{5}$/.test(code) || code === "ECONNREFUSED");
  if (!driver) return e;
  return new CapkitError("STORE_UNAVAILABLE", `${db ?? "the database"}: ${(e as Error).message}`, {
    hint:
      code === "SQLITE_READONLY" ? "the database file or its directory is read-only" : "check the database",
    details: { driverCode: code },
    cause: e,
  });
}

const withVerifier =
  (run: (fn: (out: Output) => Promise<number | undefined>) => Promise<void>, create = false) =>
  <O extends StoreOptions>(
    body: (
      verifier: Awaited<ReturnType<typeof openVerifier>>["verifier"],
      o: O,
      out: Output,
    ) => Promise<number>,
  ) =>
  (o: O) =>
    run(async (out) => {
      const { verifier, close, name } = await openVerifier(o, out, create);
      try {
        return await body(verifier, o, out);
      } catch (e) {
        throw asStoreError(e, name);
      } finally {
        await close();
      }
    });

export function registerVerify(
  program: Command,
  run: (fn: (out: Output) => Promise<number | undefined>) => Promise<void>,
): void {
  const verify = program
    .command("verify")
    .description("the server side: enrol cards and tokens, check codes (one-time use, lockout)");
  const w = withVerifier(run);
  const enrolling = withVerifier(run, true);

  storeOptions(verify.command("enroll").description("enrol a card (issuer record) or a token"))
    .option("--id <id>", "credential id (a PSKC file of several keys: each key's serial)")
    .option("--user <user>", "the user it belongs to (failures and lockout then count per user)")
    .option("--replaces <old-id>", "a replacement: both valid until the new one's first code revokes the old")
    .option("--follow-drift", "TOTP: centre the window on the token's recorded clock drift")
    .option("--card <file>", "a simulated card file (its issuer part) or a CAP issuer record JSON")
    .option(
      "--uri <otpauth-uri>",
      "an OATH token from its otpauth:// URI (- from standard input, @FILE from a file)",
    )
    .option("--pskc <file>", "OATH tokens from a PSKC file: every key, or none if one cannot be enrolled")
    .option("--psk-hex <hex>", "PSKC pre-shared key (- from standard input, @FILE from a file)")
    .option("--password-stdin", "PSKC password from standard input")
    .option("--ocra <suite>", "with --uri: enrol the URI's secret as an OCRA token with this suite")
    .action(
      enrolling(
        async (
          verifier,
          o: StoreOptions & {
            id?: string;
            card?: string;
            uri?: string;
            pskc?: string;
            pskHex?: string;
            passwordStdin?: boolean;
            ocra?: string;
            user?: string;
            replaces?: string;
            followDrift?: boolean;
          },
          out,
        ) => {
          const enroll = (req: EnrollRequest) =>
            o.replaces
              ? verifier.replace(o.replaces, req)
              : verifier.enroll(o.user ? ({ ...req, user: o.user } as EnrollRequest) : req);
          const sources = [o.card, o.uri, o.pskc].filter((x) => x !== undefined).length;
          if (sources !== 1) throw usage("give one of --card, --uri, --pskc");
          if (o.card) {
            if (o.id === undefined) throw usage("--card needs --id");
            let json: Record<string, unknown>;
            try {
              json = JSON.parse(readText(o.card)) as Record<string, unknown>;
            } catch (e) {
              if (e instanceof CapkitError) throw e;
              throw usage(
                `${o.card} is not valid JSON`,
                "give a card file (capkit sim card new) or an issuer record",
              );
            }
            if (typeof json !== "object" || json === null || Array.isArray(json))
              throw usage(`${o.card} is not a card file or an issuer record`);
            const { issuerRecordOf, parseSimCardState } = await import("@capkit/token-sim");
            const record =
              json["format"] === "capkit-sim-card/1"
                ? issuerRecordOf(parseSimCardState(json))
                : (json as never);
            await enroll({ id: o.id, kind: "cap", record });
            const s = await verifier.status(o.id);
            out.result({ enrolled: o.id, kind: s.kind }, `enrolled ${o.id} (${s.kind})`);
          } else {
            // One meaning for an otpauth URI or a PSKC file: @capkit/oath's token parameters (verify-enroll-oath.ts).
            if (o.uri !== undefined && o.id === undefined) throw usage("--uri needs --id");
            const { enrollOath, printEnrollment } = await import("./verify-enroll-oath.js");
            printEnrollment(out, await enrollOath(verifier, o));
          }
          return 0;
        },
      ),
    );

  storeOptions(
    verify.command("check").description("check a code: prints accepted, rejected or locked, and exits by it"),
  )
    .option("--id <id>", "credential id")
    .option("--user <user>", "instead of --id: try every active credential of this user")
    .requiredOption("--code <code>", "the code as typed (spaces allowed)")
    .option("--function <f>", "identify | respond | sign | ocra")
    .option("--challenge-id <id>", "the challenge the code answers")
    .option("--amount <amount>", "sign: the amount")
    .option("--currency <code>", "sign: ISO 4217 numeric currency")
    .option("--tds <numbers...>", "identify with transaction data")
    .action(
      w(
        async (
          verifier,
          o: StoreOptions & {
            id?: string;
            user?: string;
            code: string;
            function?: string;
            challengeId?: string;
            amount?: string;
            currency?: string;
            tds?: string[];
          },
          out,
        ) => {
          if (o.code.replace(/\s+/g, "") === "") throw usage("--code is empty", "give the code as typed");
          const fn = o.function;
          if (fn !== undefined && !["identify", "respond", "sign", "ocra"].includes(fn))
            throw usage(`unknown function ${fn}`);
          const r = await verifier.verify({
            ...oneOf(o),
            code: o.code,
            ...(fn ? { function: fn as "identify" } : {}),
            ...(o.challengeId ? { challengeId: o.challengeId } : {}),
            ...(o.amount ? { amount: o.amount } : {}),
            ...(o.currency ? { currency: o.currency } : {}),
            ...(o.tds ? { tds: o.tds } : {}),
          });
          const why = r.replayed
            ? " (the code just accepted, again: not counted)"
            : r.triesLeft !== undefined
              ? ` (${r.triesLeft} ${r.triesLeft === 1 ? "try" : "tries"} left before the lock)`
              : "";
          out.result(r, `${r.result}${why}`);
          return r.result === "accepted" ? 0 : 1;
        },
      ),
    );

  storeOptions(
    verify.command("challenge").description("issue a single-use challenge for respond, sign or ocra"),
  )
    .requiredOption("--id <id>", "credential id")
    .option("--function <f>", "respond | sign | ocra", "respond")
    .action(
      w(async (verifier, o: StoreOptions & { id: string; function: string }, out) => {
        if (!["respond", "sign", "ocra"].includes(o.function))
          throw usage("--function is respond, sign or ocra");
        const c = await verifier.issueChallenge(o.id, o.function as "respond");
        out.result(
          c,
          `challenge ${c.challenge} (id ${c.challengeId}, expires ${new Date(c.expiresAt).toISOString()})`,
        );
        return 0;
      }),
    );

  storeOptions(verify.command("resync").description("resynchronise with two consecutive codes"))
    .requiredOption("--id <id>", "credential id")
    .requiredOption("--code1 <code>", "first code")
    .requiredOption("--code2 <code>", "the next code")
    .action(
      w(async (verifier, o: StoreOptions & { id: string; code1: string; code2: string }, out) => {
        if (o.code1.trim() === "" || o.code2.trim() === "")
          throw usage("--code1 and --code2 must not be empty");
        const r = await verifier.resync(o.id, o.code1, o.code2);
        out.result(r, r.result);
        return r.result === "accepted" ? 0 : 1;
      }),
    );

  storeOptions(verify.command("unlock").description("clear a lockout (administrator)"))
    .option("--id <id>", "credential id")
    .option("--user <user>", "instead of --id: a user's lockout")
    .action(
      w(async (verifier, o: StoreOptions & { id?: string; user?: string }, out) => {
        const who = oneOf(o);
        if (who.user !== undefined) await verifier.unlockUser(who.user);
        else await verifier.unlock(who.id!);
        out.result({ unlocked: who.user ?? who.id }, `unlocked ${who.user ?? who.id}`);
        return 0;
      }),
    );

  storeOptions(verify.command("status").description("a credential's (or a user's) state"))
    .option("--id <id>", "credential id")
    .option("--user <user>", "instead of --id: a user's failure count, lockout and credentials")
    .action(
      w(async (verifier, o: StoreOptions & { id?: string; user?: string }, out) => {
        const who = oneOf(o);
        if (who.user !== undefined) {
          const u = await verifier.userStatus(who.user);
          out.result(
            u,
            `${u.user}: ${u.failures} failure(s)${u.locked ? ", LOCKED" : ""}; credentials ${u.credentials.join(", ") || "none"}`,
          );
          return 0;
        }
        const s = await verifier.status(who.id!);
        out.result(s, describe(s));
        return 0;
      }),
    );

  storeOptions(verify.command("list").description("credentials in id order, a page at a time"))
    .option("--user <user>", "only this user's")
    .option("--after <id>", "the page after this id (the previous page's last)")
    .option("--limit <n>", "page size (1–1000)", "100")
    .action(
      w(async (verifier, o: StoreOptions & { user?: string; after?: string; limit: string }, out) => {
        const page = await verifier.list({
          limit: positiveInteger(o.limit, "--limit"),
          ...(o.user ? { user: o.user } : {}),
          ...(o.after ? { after: o.after } : {}),
        });
        out.result(page, () =>
          [...page.credentials.map(describe), ...(page.next ? [`(more: --after ${page.next})`] : [])].join(
            "\n",
          ),
        );
        return 0;
      }),
    );

  for (const [name, description] of [
    ["disable", "stop a credential answering (every code rejected) until enabled"],
    ["enable", "let a disabled credential answer again"],
    ["revoke", "delete a credential's state and keys for good (its audit trail stays)"],
  ] as const) {
    storeOptions(verify.command(name).description(description))
      .requiredOption("--id <id>", "credential id")
      .action(
        w(async (verifier, o: StoreOptions & { id: string }, out) => {
          await verifier[name](o.id);
          out.result({ [`${name}d`]: o.id }, `${name}d ${o.id}`);
          return 0;
        }),
      );
  }

  storeOptions(verify.command("prune-audit").description("audit retention: delete entries older than a date"))
    .option("--before <date>", "ISO 8601 date or time: entries before it are deleted")
    .option("--older-than-days <n>", "instead of --before: entries older than this many days")
    .action(
      w(async (verifier, o: StoreOptions & { before?: string; olderThanDays?: string }, out) => {
        if ((o.before === undefined) === (o.olderThanDays === undefined))
          throw usage("give one of --before, --older-than-days");
        const before =
          o.before !== undefined
            ? Date.parse(o.before)
            : Date.now() - positiveInteger(o.olderThanDays!, "--older-than-days") * 86_400_000;
        if (!Number.isFinite(before)) throw usage(`--before ${o.before} is not a date`, "e.g. 2026-01-01");
        const deleted = await verifier.pruneAudit(before);
        out.result(
          { deleted, before: new Date(before).toISOString() },
          `deleted ${deleted} audit entr${deleted === 1 ? "y" : "ies"} before ${new Date(before).toISOString()}`,
        );
        return 0;
      }),
    );

  storeOptions(verify.command("audit").description("the audit trail"))
    .option("--id <id>", "only this credential")
    .option("--limit <n>", "newest entries", "50")
    .action(
      w(async (verifier, o: StoreOptions & { id?: string; limit: string }, out) => {
        const entries = await verifier.audit(o.id, Number(o.limit));
        out.result({ entries }, () =>
          entries
            .map(
              (a) =>
                `${new Date(a.at).toISOString()} ${a.credentialId} ${a.action} ${a.result}${a.counter !== undefined ? ` #${a.counter}` : ""}${a.detail ? ` (${a.detail})` : ""}`,
            )
            .join("\n"),
        );
        return 0;
      }),
    );
}

/** Exactly one of --id and --user. */
function oneOf(o: {
  id?: string;
  user?: string;
}): { id: string; user?: never } | { user: string; id?: never } {
  if ((o.id === undefined) === (o.user === undefined)) throw usage("give one of --id, --user");
  return o.user !== undefined ? { user: o.user } : { id: o.id! };
}

function positiveInteger(text: string, what: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,9}$/.test(text) || n < 1) throw usage(`${what} must be a positive integer`);
  return n;
}

/** One line a support desk can read out: state, lockout, and how far a TOTP token's clock is off. */
function describe(s: CredentialStatus): string {
  const drift =
    s.driftSeconds === undefined || s.driftSeconds === 0
      ? ""
      : `, token clock ${Math.abs(s.driftSeconds)} s ${s.driftSeconds > 0 ? "fast" : "slow"}`;
  return `${s.id}: ${s.kind}${s.user ? ` (user ${s.user})` : ""}, ${s.state}, last ${s.last}, ${s.failures} failure(s)${s.locked ? ", LOCKED" : ""}${drift}${s.replaces ? `, replaces ${s.replaces}` : ""}`;
}
