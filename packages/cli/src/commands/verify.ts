import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CapkitError } from "@capkit/core";
import type { CredentialStatus, EnrollRequest } from "@capkit/verify";
import type { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
import type { Command } from "commander";
import { readText } from "../shared/input.js";
import { type Output, usage } from "../shared/output.js";
import { resolveStore, type StoreOptions, storeName, storeOptions } from "../shared/store.js";
import { registerVerifyApprovals } from "./verify-events.js";

/** The key file used when neither --keys nor CAPKIT_KEYS is given: the user's, never beside a database. */
export function defaultKeyFile(): string {
  const base = process.env["XDG_CONFIG_HOME"] || join(homedir(), ".config");
  return join(base, "capkit", "keys.json");
}

const NO_KEYS_HINT =
  "create keys once: capkit verify keys new (writes ~/.config/capkit/keys.json, mode 0600; " +
  "--allow-test-keys for simulated cards), or give them with --keys FILE or CAPKIT_KEYS";

/**
 * The key provider: from --keys, CAPKIT_KEYS (the material as JSON), or the default key file — in that order. A
 * key file is the master key in clear: one in the database's folder (a backup or a copy takes both) or readable
 * by others is used with a warning. A `{"pkcs11": {…}}` file or variable opens a PKCS#11 token instead
 * (`@capkit/verify/pkcs11`). A database made by capkit 0.1 has its key file beside it: still used, with the warning.
 */
export async function openKeys(o: { keys?: string }, out: Output, db?: string) {
  const v = await import("@capkit/verify");
  let material: unknown;
  let file: string | undefined;
  if (o.keys) file = o.keys;
  else if (process.env["CAPKIT_KEYS"]) material = parseKeysEnv(process.env["CAPKIT_KEYS"]);
  else if (existsSync(defaultKeyFile())) file = defaultKeyFile();
  else if (db !== undefined && existsSync(`${db}.keys.json`)) file = `${db}.keys.json`;
  else
    throw new CapkitError("KEY_INVALID", "no keys: neither --keys, CAPKIT_KEYS nor a default key file", {
      hint: NO_KEYS_HINT,
    });
  if (file) {
    warnAboutKeyFile(file, db, out);
    material = v.readMaterialFile(file);
  }
  if (typeof material === "object" && material !== null && "pkcs11" in material) {
    const { pkcs11, allowTestKeys } = material as {
      pkcs11: Record<string, unknown>;
      allowTestKeys?: boolean;
    };
    const { Pkcs11KeyProvider } = await import("@capkit/verify/pkcs11");
    return Pkcs11KeyProvider.open({
      ...(pkcs11 as unknown as Parameters<typeof Pkcs11KeyProvider.open>[0]),
      ...(allowTestKeys ? { allowTestKeys } : {}),
    });
  }
  return new v.SoftwareKeyProvider(material as never);
}

function parseKeysEnv(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CapkitError("KEY_INVALID", "CAPKIT_KEYS is not valid JSON", { hint: NO_KEYS_HINT });
  }
}

/** Warnings, never refusals: the operator decides, but is told (stderr) where a key file is exposed. */
function warnAboutKeyFile(file: string, db: string | undefined, out: Output): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return; // reading it fails next, with the error that says why
  }
  if (db !== undefined && dirname(resolve(file)) === dirname(resolve(db)))
    out.info(
      `warning: the key file ${file} sits beside the database ${db}: whoever copies the folder (a backup) has both; ` +
        "keep keys elsewhere (CAPKIT_KEYS, or ~/.config/capkit/keys.json)",
    );
  if ((mode & 0o077) !== 0)
    out.info(
      `warning: the key file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`,
    );
}

/**
 * The verifier with its store and keys (`openKeys`, or `given`: the demo's, in memory). Only `enroll`
 * (`create`) makes a new database: any other command on a missing database is a typo.
 */
export async function openVerifier(
  o: StoreOptions,
  out: Output,
  create = false,
  given?: Awaited<ReturnType<typeof openKeys>>,
) {
  const v = await import("@capkit/verify");
  // Which database: one rule in shared/store.ts (--db, --pg as a value, - or @FILE, CAPKIT_DB, DATABASE_URL),
  // and where capkit's tables are in it (--table-prefix, --schema).
  const where = await resolveStore(o);
  const db = where.kind === "sqlite" ? where.file : undefined;
  const dbExists = db === undefined || existsSync(db);
  if (!dbExists && !create)
    throw new CapkitError("STORE_UNAVAILABLE", `no database at ${db}`, {
      hint: "check --db or CAPKIT_DB (capkit verify enroll creates a database with its first credential)",
    });
  // Keys before the store: enroll without keys must not leave an empty database behind.
  const keys = given ?? (await openKeys(o, out, db));
  try {
    // Only the driver this store needs is loaded (start-up time, and pg is not needed for SQLite at all).
    const store =
      where.kind === "postgres"
        ? await (await import("@capkit/verify/postgres")).PostgresStore.connect(where.url, where.tables)
        : await (async () => {
            const { SqliteStore } = await import("@capkit/verify/sqlite");
            return storeError(() => new SqliteStore(where.file, where.tables), where.file);
          })();
    const close = async () => {
      await store.close();
      closeKeys(keys);
    };
    return {
      verifier: new v.Verifier({ store, keys, actor: actorName() }),
      keys,
      store,
      close,
      name: storeName(where),
      where,
      actor: actorName(),
    };
  } catch (e) {
    closeKeys(keys);
    throw e;
  }
}

function closeKeys(keys: object): void {
  if ("close" in keys && typeof keys.close === "function") keys.close();
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

export function asStoreError(e: unknown, db: string | undefined): unknown {
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

  const keys = verify.command("keys").description("key material: create it, rotate the master key");
  keys
    .command("new")
    .description("write fresh key material (a random master key), mode 0600; never overwrites a file")
    .option("--out <file>", "where to write it (default: ~/.config/capkit/keys.json)")
    .option("--allow-test-keys", "accept simulated cards' test keys (a test set-up, never production)")
    .action((o: { out?: string; allowTestKeys?: boolean }) =>
      run(async (out) => {
        const v = await import("@capkit/verify");
        const file = o.out ?? defaultKeyFile();
        if (!o.out) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        const material = v.SoftwareKeyProvider.generateMaterial({ allowTestKeys: o.allowTestKeys ?? false });
        try {
          writeFileSync(file, `${JSON.stringify(material, null, 2)}\n`, { mode: 0o600, flag: "wx" });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "EEXIST")
            throw usage(`${file} exists`, "capkit never overwrites a key file: move it first");
          throw usage(`cannot write ${file}: ${code ?? "error"}`);
        }
        const id = new v.SoftwareKeyProvider(material).currentKeyId;
        out.result(
          { file, keyId: id, allowTestKeys: o.allowTestKeys ?? false },
          `wrote ${file} (master key ${id}${o.allowTestKeys ? ", test keys allowed" : ""}); keep it private and apart from the database`,
        );
        return 0;
      }),
    );

  keys
    .command("rotate")
    .description("a new master key (the current one kept as previous); then run capkit verify rekey")
    .option("--keys <file>", "the key file to rotate (default: ~/.config/capkit/keys.json)")
    .action((o: { keys?: string }) =>
      run(async (out) => {
        const file = o.keys ?? defaultKeyFile();
        const v = await import("@capkit/verify");
        const material = v.readMaterialFile(file) as Record<string, unknown>;
        if ("pkcs11" in material) {
          const provider = await openKeys({ keys: file }, out);
          try {
            const keyId = (provider as Pkcs11KeyProvider).rotate();
            out.result({ keyId }, `the token's keys are now generation ${keyId}; run capkit verify rekey`);
          } finally {
            closeKeys(provider);
          }
          return 0;
        }
        const current = new v.SoftwareKeyProvider(material as never);
        const fresh = v.SoftwareKeyProvider.generateMaterial();
        const previous = [
          String(material["masterKey"]),
          ...((material["previousMasterKeys"] as string[]) ?? []),
        ];
        const next = { ...material, masterKey: fresh.masterKey, previousMasterKeys: previous };
        replaceKeyFile(file, next);
        const keyId = new v.SoftwareKeyProvider(next as never).currentKeyId;
        out.result(
          { file, keyId, previous: current.currentKeyId },
          `${file}: master key ${keyId}, ${current.currentKeyId} kept as previous. Give this file to every verifier, ` +
            "then run capkit verify rekey, then capkit verify keys retire",
        );
        return 0;
      }),
    );

  storeOptions(
    keys
      .command("retire")
      .description("forget the previous master keys, once nothing is sealed under them (after rekey)"),
  ).action(
    w(async (verifier, o: StoreOptions, out) => {
      const report = await verifier.rekey({ actor: actorName() }); // re-seals anything left, or finds nothing
      const file = o.keys ?? (process.env["CAPKIT_KEYS"] ? undefined : defaultKeyFile());
      if (!file) throw usage("CAPKIT_KEYS cannot be rewritten: remove previousMasterKeys from it yourself");
      const v = await import("@capkit/verify");
      const material = v.readMaterialFile(file) as Record<string, unknown>;
      if ("pkcs11" in material) {
        const provider = await openKeys({ keys: file }, out);
        try {
          const p = provider as Pkcs11KeyProvider;
          const current = Number(p.currentKeyId.slice(1));
          for (let n = 1; n < current; n++) p.retire(`g${n}`);
        } finally {
          closeKeys(provider);
        }
      } else {
        const { previousMasterKeys: _, ...rest } = material;
        replaceKeyFile(file, rest);
      }
      out.result(
        { retired: true, keyId: report.keyId, resealed: report.resealed },
        `only key ${report.keyId} remains; what was sealed under the previous keys is refused from now on`,
      );
      return 0;
    }),
  );

  storeOptions(
    verify
      .command("rekey")
      .description("re-seal every credential under the current master key (online, resumable, audited)"),
  )
    .option("--actor <name>", "who runs it, for the audit (default: cli:<login>)")
    .action(
      w(async (verifier, o: StoreOptions & { actor?: string }, out) => {
        const report = await verifier.rekey({
          actor: o.actor ?? actorName(),
          onProgress: (p) => out.info(`re-sealed ${p.resealed}, already under ${p.keyId}: ${p.current}`),
        });
        out.result(
          report,
          `re-sealed ${report.resealed} credential(s) under ${report.keyId} (${report.current} were already)`,
        );
        return 0;
      }),
    );

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

  storeOptions(
    verify
      .command("prune-audit")
      .description(
        "audit retention: delete entries older than a date or beyond a size (what stays still verifies)",
      ),
  )
    .option("--before <date>", "ISO 8601 date or time: entries before it are deleted")
    .option("--older-than-days <n>", "instead of --before: entries older than this many days")
    .option("--max-rows <n>", "keep at most about this many entries (the oldest go)")
    .option("--max-bytes <n>", "keep at most about this many bytes of entries")
    .action(
      w(
        async (
          verifier,
          o: StoreOptions & { before?: string; olderThanDays?: string; maxRows?: string; maxBytes?: string },
          out,
        ) => {
          if (o.before !== undefined && o.olderThanDays !== undefined)
            throw usage("give one of --before, --older-than-days");
          if ([o.before, o.olderThanDays, o.maxRows, o.maxBytes].every((x) => x === undefined))
            throw usage("give --before, --older-than-days, --max-rows or --max-bytes");
          const before =
            o.before !== undefined
              ? Date.parse(o.before)
              : o.olderThanDays !== undefined
                ? Date.now() - positiveInteger(o.olderThanDays, "--older-than-days") * 86_400_000
                : undefined;
          if (before !== undefined && !Number.isFinite(before))
            throw usage(`--before ${o.before} is not a date`, "e.g. 2026-01-01");
          const deleted = await verifier.pruneAudit({
            ...(before !== undefined ? { before } : {}),
            ...(o.maxRows !== undefined ? { maxRows: positiveInteger(o.maxRows, "--max-rows") } : {}),
            ...(o.maxBytes !== undefined ? { maxBytes: positiveInteger(o.maxBytes, "--max-bytes") } : {}),
          });
          out.result(
            { deleted, ...(before !== undefined ? { before: new Date(before).toISOString() } : {}) },
            `deleted ${deleted} audit entr${deleted === 1 ? "y" : "ies"}`,
          );
          return 0;
        },
      ),
    );

  registerVerifyApprovals(verify, run, openVerifier);

  storeOptions(
    verify
      .command("audit")
      .description("the audit trail: read it, export it for a SIEM, verify it, sign a checkpoint"),
  )
    .option("--id <id>", "only this credential")
    .option("--user <user>", "only this user")
    .option("--operation <id>", "only this operation's entries (its creation, decisions, cancellation)")
    .option("--since <date>", "entries from this date or time (ISO 8601)")
    .option("--until <date>", "entries before this date or time")
    .option("--limit <n>", "newest entries shown (human and --json output)", "50")
    .option("--format <f>", "export every matching entry: jsonl (JSON lines) or csv, to stdout")
    .option(
      "--verify",
      "check the chains and the signed checkpoints: tampering and deletions (exit 1 if any)",
    )
    .option(
      "--checkpoint",
      "sign a checkpoint (run it every few minutes; each seals what came before the previous)",
    )
    .option("--public-keys", "print the audit public keys: what an offline verifier needs")
    .action(
      w(
        async (
          verifier,
          o: StoreOptions & {
            id?: string;
            user?: string;
            operation?: string;
            since?: string;
            until?: string;
            limit: string;
            format?: string;
            verify?: boolean;
            checkpoint?: boolean;
            publicKeys?: boolean;
          },
          out,
        ) => {
          if (o.checkpoint) {
            const cp = await verifier.checkpointAudit();
            out.result(
              cp ?? { checkpoint: null },
              cp
                ? `checkpoint ${cp.seq}: ${cp.heads.length} chain(s) up to entry ${cp.to}, signed by ${cp.keyId}`
                : "nothing new to checkpoint",
            );
            return 0;
          }
          if (o.publicKeys) {
            const keys = await verifier.auditPublicKeys();
            out.result(keys, () =>
              Object.entries(keys)
                .map(([id, k]) => `${id} ${k}`)
                .join("\n"),
            );
            return 0;
          }
          if (o.verify) {
            const v = await verifier.verifyAudit();
            out.result(v, () =>
              [
                `${v.ok ? "ok" : "TAMPERED"}: ${v.entries} entries in ${v.chains} chain(s), ${v.checkpoints} signed checkpoint(s)` +
                  `${v.unsealed ? `; ${v.unsealed} not yet under a checkpoint` : ""}` +
                  `${v.unchained ? `; ${v.unchained} from before the trail was chained` : ""}`,
                ...v.problems,
              ].join("\n"),
            );
            return v.ok ? 0 : 1;
          }
          const date = (text: string | undefined, what: string) => {
            if (text === undefined) return undefined;
            const t = Date.parse(text);
            if (!Number.isFinite(t))
              throw usage(`${what} ${text} is not a date`, "e.g. 2026-12-01 or 2026-12-01T08:00Z");
            return t;
          };
          const query = {
            ...(o.id !== undefined ? { credential: o.id } : {}),
            ...(o.user !== undefined ? { user: o.user } : {}),
            ...(o.since !== undefined ? { since: date(o.since, "--since")! } : {}),
            ...(o.until !== undefined ? { until: date(o.until, "--until")! } : {}),
          };
          // An operation's entries name it first in their detail (`operation <id>: …`).
          const ofOperation = (page: Awaited<ReturnType<typeof verifier.auditTrail>>) =>
            o.operation === undefined
              ? page
              : page.filter((e) => e.detail?.startsWith(`operation ${o.operation}:`));
          if (o.format !== undefined) {
            if (o.format !== "jsonl" && o.format !== "csv") throw usage("--format is jsonl or csv");
            const v = await import("@capkit/verify");
            let header = true;
            for (let after = 0; ; ) {
              const page = await verifier.auditTrail({ ...query, after, limit: 10_000 });
              const text =
                o.format === "jsonl" ? v.auditJsonLines(ofOperation(page)) : v.auditCsv(ofOperation(page));
              process.stdout.write(
                o.format === "csv" && !header ? text.slice(text.indexOf("\r\n") + 2) : text,
              );
              header = false;
              if (page.length < 10_000) break;
              after = page.at(-1)!.seq;
            }
            return 0;
          }
          const limit = positiveInteger(o.limit, "--limit");
          const entries: Awaited<ReturnType<typeof verifier.auditTrail>> = [];
          for (let after = 0; ; ) {
            const page = await verifier.auditTrail({ ...query, after, limit: 10_000 });
            entries.push(...ofOperation(page));
            if (entries.length > limit) entries.splice(0, entries.length - limit);
            if (page.length < 10_000) break;
            after = page.at(-1)!.seq;
          }
          out.result({ entries }, () =>
            entries
              .map(
                (a) =>
                  `${new Date(a.at).toISOString()} ${a.credentialId}${a.user ? ` (user ${a.user})` : ""} ${a.action} ${a.result}${a.counter !== undefined ? ` #${a.counter}` : ""}${a.detail ? ` (${a.detail})` : ""}${a.actor ? ` by ${a.actor}` : ""}`,
              )
              .join("\n"),
          );
          return 0;
        },
      ),
    );
}

/** Who runs a CLI command, for the audit: `cli:<login name>`. */
export function actorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli";
  }
}

/** A key file rewritten in one step (a new file renamed over it, mode 0600): a crash leaves the old or the new. */
function replaceKeyFile(file: string, material: unknown): void {
  const next = `${file}.${process.pid}.new`;
  writeFileSync(next, `${JSON.stringify(material, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  renameSync(next, file);
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
  if (!/^[0-9]{1,15}$/.test(text) || n < 1) throw usage(`${what} must be a positive integer`);
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
