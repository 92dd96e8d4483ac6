import type Database from "better-sqlite3";
import {
  type Catalog,
  legacyMarkerSql,
  legacyMetaShaped,
  legacyNames,
  metaRowsSql,
  planMigration,
  recordVersionSql,
  type SchemaSet,
  versionName,
} from "./migrations.js";
import type { TableNames } from "./tables.js";

/**
 * Brings a SQLite database's tables of `set` to the code's version (src/stores/migrations.ts), in one IMMEDIATE
 * transaction: SQLite's single writer makes processes opening the file at once run it one after the other, and
 * the second finds nothing to do.
 */
export function migrateSqlite(db: Database.Database, n: TableNames, set: SchemaSet): void {
  const legacy = legacyNames();
  db.transaction(() => {
    // SQLite's names are case-insensitive: CAPKIT_CREDENTIALS is capkit_credentials, so every name is compared
    // lower-cased (capkit's own are lower-case, src/stores/tables.ts).
    const columns = new Map<string, string[]>();
    const rows = db
      .prepare(
        "SELECT lower(m.name) AS t, lower(p.name) AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type IN ('table', 'view')",
      )
      .all() as { t: string; c: string }[];
    for (const r of rows) columns.set(r.t, [...(columns.get(r.t) ?? []), r.c]);
    const target = new Map([...columns].filter(([t]) => t.startsWith(n.prefix)));
    const meta = target.has(n.bare("meta"))
      ? (db.prepare(metaRowsSql(n, () => "?")).all(versionName(set)) as { name: string; value: string }[])
      : [];
    const legacyMarker =
      legacyMetaShaped(columns.get("meta")) && db.prepare(legacyMarkerSql(legacy)).get() !== undefined;
    const version = meta.find((r) => r.name === versionName(set));
    const catalog: Catalog = {
      target,
      legacy: new Map(
        ["meta" as const, ...set.tables].flatMap((t) => (columns.has(t) ? [[t, columns.get(t)!]] : [])),
      ),
      version: version === undefined ? 0 : Number(version.value),
      adopted: meta.some((r) => r.name !== versionName(set)),
      legacyMarker,
    };
    const plan = planMigration(set, n, "sqlite", catalog);
    if (!plan) return;
    for (const table of plan.adopt) {
      // The old indexes go (SQLite cannot rename an index); the set's DDL creates them under the prefixed names.
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL",
        )
        .all(legacy.bare(table)) as { name: string }[];
      for (const i of indexes) db.exec(`DROP INDEX "${i.name.replaceAll('"', '""')}"`);
      db.exec(`ALTER TABLE ${legacy.t[table]} RENAME TO "${n.bare(table)}"`);
    }
    for (const s of plan.statements) db.exec(s);
    db.prepare(recordVersionSql(n, () => "?")).run(versionName(set), String(plan.to));
  }).immediate();
}
