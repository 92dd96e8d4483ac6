import type Database from "better-sqlite3";
import { chainHash, chainOf, chainStart } from "../audit/chain.js";
import type { AuditEntry } from "../model.js";
import type { TableNames } from "./tables.js";

/** Writes one audit row, chained; the caller holds the database's write lock (an IMMEDIATE transaction). */
export type SqliteAuditWriter = (entry: AuditEntry) => void;

/**
 * The one writer of SQLite audit rows, for every table set that shares the file (the verifier's, the
 * approvals'): each row in its hash chain (src/audit/chain.ts, https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.2). Every caller holds
 * the write lock, so reading the chain's head and moving it on is atomic.
 */
export function sqliteAuditWriter(db: Database.Database, n: TableNames): SqliteAuditWriter {
  const chainHead = db.prepare(`SELECT n, head FROM ${n.t.audit_chains} WHERE chain = ?`);
  const moveChain = db.prepare(
    `INSERT INTO ${n.t.audit_chains} (chain, n, head) VALUES (?, ?, ?) ON CONFLICT (chain) DO UPDATE SET n = excluded.n, head = excluded.head`,
  );
  const insert = db.prepare(
    `INSERT INTO ${n.t.audit} (at, credential_id, action, result, counter, detail, user_id, actor, chain, n, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (a) => {
    const chain = chainOf(a);
    const head = chainHead.get(chain) as { n: number; head: string } | undefined;
    const k = (head?.n ?? 0) + 1;
    const prev = head ? Buffer.from(head.head, "hex") : chainStart(chain);
    const hash = Buffer.from(chainHash(prev, { ...a, chain, n: k })).toString("hex");
    moveChain.run(chain, k, hash);
    insert.run(
      a.at,
      a.credentialId,
      a.action,
      a.result,
      a.counter ?? null,
      a.detail ?? null,
      a.user ?? null,
      a.actor ?? null,
      chain,
      k,
      hash,
    );
  };
}
