import { writeFileSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type { SecurityEventRecord, SecurityEventType, Subject, SubjectKind } from "@capkit/verify/approvals";
import type { Command } from "commander";
import { type Output, type Run, usage } from "../shared/output.js";
import { type StoreLocation, type StoreOptions, storeOptions } from "../shared/store.js";
import type { openVerifier } from "./verify.js";

/**
 * `capkit verify events` (record a security event, list them) and `capkit verify receipts` (a user's receipt
 * chain, for `capkit receipt verify`): the approvals' side of a verifier's database (@capkit/verify/approvals).
 * Every argument is checked before the database is opened: a bad one stores nothing.
 */
export function registerVerifyApprovals(verify: Command, run: Run, open: typeof openVerifier): void {
  const events = verify
    .command("events")
    .description("security events: record one (it revokes what the table says, at once), list them");

  storeOptions(
    events
      .command("record")
      .description("record a security event with its cause; it moves the subject's epochs in the same write"),
  )
    .requiredOption(
      "--type <type>",
      "password-reset | password-change | admin-change | adviser-revocation | device-reactivation",
    )
    .option("--user <user>", "the user it is about")
    .option("--subject <kind:id>", "instead of --user: user:ID, account:ID or contract:ID")
    .requiredOption("--cause <text>", "why, for the audit trail (never a secret)")
    .action((o: StoreOptions & { type: string; user?: string; subject?: string; cause: string }) =>
      run(async (out) => {
        const a = await import("@capkit/verify/approvals");
        const type = o.type as SecurityEventType;
        if (!a.SECURITY_EVENT_TYPES.includes(type))
          throw usage(`unknown event type ${o.type}`, `one of ${a.SECURITY_EVENT_TYPES.join(", ")}`);
        const subject = subjectOf(o, a.SUBJECT_KINDS);
        if (!a.REVOCATIONS[type].subjects.includes(subject.kind))
          throw usage(`${type} is an event about a ${a.REVOCATIONS[type].subjects.join(" or ")}`);
        if (o.cause.trim() === "") throw usage("--cause is empty", "say why, in words");
        return withSecurity(open, o, out, async (security, actor) => {
          const e = await new a.SecurityEvents({ store: security, actor }).record({
            type,
            subject,
            cause: o.cause,
          });
          out.result(e, describeEvent(e));
          return 0;
        });
      }),
    );

  storeOptions(events.command("list").description("security events in the order recorded, a page at a time"))
    .option("--user <user>", "only this user's")
    .option("--subject <kind:id>", "instead of --user: user:ID, account:ID or contract:ID")
    .option("--after <seq>", "the page after this event (the previous page's last seq)")
    .option("--limit <n>", "page size (1–1000)", "100")
    .action((o: StoreOptions & { user?: string; subject?: string; after?: string; limit: string }) =>
      run(async (out) => {
        const a = await import("@capkit/verify/approvals");
        const subject =
          o.user === undefined && o.subject === undefined ? undefined : subjectOf(o, a.SUBJECT_KINDS);
        const after = o.after === undefined ? 0 : count(o.after, "--after", 0);
        const limit = count(o.limit, "--limit", 1);
        return withSecurity(open, o, out, async (security) => {
          const list = await new a.SecurityEvents({ store: security }).list({
            after,
            limit,
            ...(subject ? { subject } : {}),
          });
          out.result({ events: list }, () => list.map(describeEvent).join("\n") || "no events");
          return 0;
        });
      }),
    );

  storeOptions(
    verify
      .command("receipts")
      .description("a user's signed receipts in chain order (what capkit receipt verify checks offline)"),
  )
    .requiredOption("--user <user>", "whose receipts")
    .option("--after <n>", "from after this place in the chain")
    .option("--limit <n>", "how many (1–1000)", "1000")
    .option("--out <file>", "write the chain (JSON) to a new file")
    .action((o: StoreOptions & { user: string; after?: string; limit: string; out?: string }) =>
      run(async (out) => {
        const after = o.after === undefined ? 0 : count(o.after, "--after", 0);
        const limit = count(o.limit, "--limit", 1);
        return withSecurity(open, o, out, async (security, _actor, verifier, keys) => {
          const a = await import("@capkit/verify/approvals");
          const approvals = new a.Approvals({ verifier, store: security, keys });
          const receipts = await approvals.receipts(o.user, { after, limit });
          if (o.out !== undefined) {
            try {
              writeFileSync(o.out, `${JSON.stringify(receipts, null, 2)}\n`, { flag: "wx" });
            } catch (e) {
              const code = (e as NodeJS.ErrnoException).code;
              throw usage(`cannot write ${o.out}: ${code ?? "error"}`, "capkit never overwrites a file");
            }
          }
          out.result(
            { receipts },
            () =>
              [
                ...receipts.map(
                  (s) =>
                    `${s.receipt.time} ${s.receipt.result} ${s.receipt.method} by ${s.receipt.credential}, operation ${s.receipt.operationDigest.slice(0, 16)}…`,
                ),
                ...(o.out !== undefined ? [`wrote ${receipts.length} receipt(s) to ${o.out}`] : []),
              ].join("\n") || "no receipts",
          );
          return 0;
        });
      }),
    );
}

/** The verifier's database, and the approvals' store beside it (the same SQLite file or PostgreSQL database). */
async function withSecurity(
  open: typeof openVerifier,
  o: StoreOptions,
  out: Output,
  body: (
    security: import("@capkit/verify/approvals").SecurityStore,
    actor: string,
    verifier: Awaited<ReturnType<typeof openVerifier>>["verifier"],
    keys: Awaited<ReturnType<typeof openVerifier>>["keys"],
  ) => Promise<number>,
): Promise<number> {
  const v = await open(o, out);
  try {
    const security = await openSecurity(v.where);
    try {
      return await body(security, v.actor, v.verifier, v.keys);
    } finally {
      await security.close();
    }
  } finally {
    await v.close();
  }
}

async function openSecurity(where: StoreLocation) {
  if (where.kind === "postgres")
    return (await import("@capkit/verify/postgres")).PostgresSecurityStore.connect(where.url, where.tables);
  const { SqliteSecurityStore } = await import("@capkit/verify/sqlite");
  return new SqliteSecurityStore(where.file, where.tables);
}

/** `--user U` or `--subject kind:id` (the id may hold colons: the kind is what comes before the first). */
function subjectOf(o: { user?: string; subject?: string }, kinds: readonly SubjectKind[]): Subject {
  if ((o.user === undefined) === (o.subject === undefined)) throw usage("give one of --user, --subject");
  if (o.user !== undefined) return { kind: "user", id: o.user };
  const at = o.subject!.indexOf(":");
  const kind = o.subject!.slice(0, at) as SubjectKind;
  if (at < 1 || !kinds.includes(kind) || at === o.subject!.length - 1)
    throw usage(`--subject ${o.subject} is not KIND:ID`, `KIND is one of ${kinds.join(", ")}`);
  return { kind, id: o.subject!.slice(at + 1) };
}

function count(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!/^[0-9]{1,15}$/.test(text) || n < min)
    throw new CapkitError("INPUT_INVALID", `${what} must be an integer of ${min} or more`);
  return n;
}

function describeEvent(e: SecurityEventRecord): string {
  const ep = e.epochs;
  return (
    `#${e.seq} ${new Date(e.at).toISOString()} ${e.type} ${e.subject.kind} ${e.subject.id}: ${e.cause}` +
    ` (epochs device ${ep.device}, session ${ep.session}, grant ${ep.grant}, operation ${ep.operation};` +
    ` ${e.operationsCancelled} operation(s) cancelled, ${e.grantsRevoked} grant(s) revoked)` +
    `${e.actor ? ` by ${e.actor}` : ""}`
  );
}
