import { CapkitError } from "@capkit/core";
import { namesFor, type TableName, type TableNames } from "./tables.js";

/**
 * Versioned migrations, for every set of tables capkit keeps in the application's database (the verifier's, the
 * provisioning's, the approvals', the development outbox). Each set's version is a row of capkit's own `meta`
 * table (`schema:<set>`); opening a store runs the steps the database lacks, all in one transaction (on
 * PostgreSQL under an advisory lock, so processes opening at once run them one after the other), and refuses a
 * database newer than the code. A step only ever creates or changes capkit's own tables: a table is capkit's
 * when it carries capkit's prefix and capkit's columns, or — for a database from before the prefix (0.1, or the
 * unprefixed tables of later versions) — when capkit's marker says so (its `meta` table with the
 * unknown-subject key, or the 0.1 credentials table's exact columns). Those are renamed into the prefixed names
 * with their indexes; an application's table that merely has the same name is never renamed, altered or read.
 */

export type Engine = "sqlite" | "postgres";

/** One step: numbered from 1 in the order they run, named, with why it exists. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly why: string;
  /** The step's DDL (one or more statements) for the engine. */
  sql(n: TableNames, engine: Engine): string;
}

/** A set of tables opened together, with its migrations and how its tables from before the prefix are known. */
export interface SchemaSet {
  readonly name: "verifier" | "provisioning" | "approvals" | "outbox";
  readonly tables: readonly TableName[];
  /** The table whose presence means the set exists (and, unprefixed, that it is capkit's when it has capkit's columns). */
  readonly anchor: TableName;
  readonly migrations: readonly Migration[];
  /** The DDL of the set as the last migration leaves it (its columns are the shape tables are recognised by). */
  ddl(n: TableNames, engine: Engine): string;
  /** Columns added since the first version: an older table lacks them, and they are added when it is adopted. */
  readonly columnsAdded?: readonly { table: TableName; column: string; definition: string }[];
  /** Columns an older table may still carry (unused now). */
  readonly legacyColumns?: Partial<Record<TableName, readonly string[]>>;
  /**
   * The tables the first schema (0.1, before capkit's meta table) created: the only ones adopted when the anchor
   * is recognised by its 0.1 columns alone (an application's table with a later table's name is never taken).
   */
  readonly firstTables?: readonly TableName[];
  /** PostgreSQL sequences of the set's own (not a serial column's), adopted with its unprefixed tables. */
  readonly legacySequences?: readonly string[];
  /**
   * What makes unprefixed tables capkit's: `marker` — capkit's meta table with its unknown-subject key, or the
   * 0.1 credentials table's exact columns (the verifier's set); `adopted` — the verifier's set was adopted from
   * unprefixed tables in this database (the sets opened beside it); `shape` — the anchor's exact columns.
   */
  readonly legacy: "marker" | "adopted" | "shape";
}

/** capkit's meta table: name/value rows (the schema versions, the unknown-subject key). */
export const metaDdl = (n: TableNames) =>
  `CREATE TABLE IF NOT EXISTS ${n.t.meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL);`;
const META_COLUMNS = ["name", "value"];

/** The meta row holding the key of the unknown subjects' hash: present in every capkit database since 0.2. */
export const UNKNOWN_KEY_NAME = "unknown-subject-key";
/** The meta row recording that the verifier's tables were adopted from unprefixed ones. */
const ADOPTED_NAME = "adopted-unprefixed";
export const versionName = (set: SchemaSet) => `schema:${set.name}`;

/** What the catalog says, read in the migration's transaction. */
export interface Catalog {
  /** Tables with the prefixed names (bare name → columns), in the target schema. */
  readonly target: ReadonlyMap<string, readonly string[]>;
  /** Tables with the unprefixed names (bare name → columns), where a version before the prefix created them. */
  readonly legacy: ReadonlyMap<string, readonly string[]>;
  /** The target meta's rows of interest: the set's version, the adoption record (absent when no meta). */
  readonly version: number;
  readonly adopted: boolean;
  /** The unprefixed meta table has capkit's columns and its unknown-subject key. */
  readonly legacyMarker: boolean;
}

/** What to do: tables to adopt (rename), then statements, then record `to`. Undefined: nothing to do. */
export interface Plan {
  readonly adopt: readonly TableName[];
  readonly statements: readonly string[];
  readonly from: number;
  readonly to: number;
}

/** The columns of each table of a set, by logical name, read from its DDL. */
function shapes(set: SchemaSet): Map<TableName, { all: Set<string>; core: Set<string> }> {
  const ddl = set.ddl(namesFor("", undefined), "sqlite");
  const out = new Map<TableName, { all: Set<string>; core: Set<string> }>();
  for (const m of ddl.matchAll(/CREATE TABLE IF NOT EXISTS "([a-z_]+)" \(([\s\S]*?)\n\);/g)) {
    const table = m[1] as TableName;
    const columns = [...m[2]!.matchAll(/^\s*([a-z_]+)\s/gm)].map((c) => c[1]!);
    const added = new Set((set.columnsAdded ?? []).filter((c) => c.table === table).map((c) => c.column));
    out.set(table, {
      all: new Set([...columns, ...(set.legacyColumns?.[table] ?? [])]),
      core: new Set(columns.filter((c) => !added.has(c))),
    });
  }
  return out;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * Which of a set's unprefixed tables, whose anchor has capkit's columns, are capkit's by its marker
 * (`SchemaSet.legacy`): the anchor's exact columns; the verifier's adoption recorded in this database; or capkit's
 * meta table with its key (every table of the set) — or, for 0.1 (no meta yet), the credentials table's exact
 * first columns (only the tables 0.1 created). Undefined: none is.
 */
function ownedTables(
  set: SchemaSet,
  shape: { all: Set<string>; core: Set<string> },
  anchor: readonly string[],
  c: Catalog,
): readonly TableName[] | undefined {
  switch (set.legacy) {
    case "shape":
      return sameSet(anchor, [...shape.all]) ? set.tables : undefined;
    case "adopted":
      return c.adopted ? set.tables : undefined;
    case "marker":
      if (c.legacyMarker) return set.tables;
      return sameSet(anchor, [...shape.core]) ? (set.firstTables ?? set.tables) : undefined;
  }
}

/**
 * The migration a database needs, or undefined when it is up to date. Throws STORE_SCHEMA_CONFLICT when a table
 * with capkit's name is not capkit's, STORE_SCHEMA_NEWER when the database's version is newer than the code's.
 */
export function planMigration(set: SchemaSet, n: TableNames, engine: Engine, c: Catalog): Plan | undefined {
  const last = set.migrations.length;
  if (c.version > last)
    throw new CapkitError(
      "STORE_SCHEMA_NEWER",
      `the ${set.name} tables (${n.t[set.anchor]}) are at schema version ${c.version}; this @capkit/verify knows versions up to ${last}`,
      {
        hint: "upgrade @capkit/verify to the version that wrote this database (a database is never downgraded)",
      },
    );
  if (c.version === last) return undefined;
  const shape = shapes(set);
  const capkits = (table: TableName, columns: readonly string[] | undefined) => {
    const s =
      table === "meta" ? { all: new Set(META_COLUMNS), core: new Set(META_COLUMNS) } : shape.get(table)!;
    return (
      columns !== undefined &&
      [...s.core].every((x) => columns.includes(x)) &&
      columns.every((x) => s.all.has(x))
    );
  };
  // A prefixed table that exists before this set was created (or in between its steps) must be capkit's own.
  for (const table of ["meta", ...set.tables] as TableName[]) {
    const columns = c.target.get(n.bare(table));
    if (
      columns !== undefined &&
      !(table === "meta" ? sameSet(columns, META_COLUMNS) : capkits(table, columns))
    )
      throw new CapkitError(
        "STORE_SCHEMA_CONFLICT",
        `the table ${n.t[table]} exists and is not capkit's (its columns are ${columns.join(", ") || "none"})`,
        {
          hint:
            "capkit never changes a table it did not create: choose another tablePrefix" +
            (engine === "postgres" ? " or schema" : "") +
            ` for capkit's tables (the prefix is now "${n.prefix}"), or rename the application's table`,
          details: { table: n.bare(table), ...(n.schema === undefined ? {} : { schema: n.schema }) },
        },
      );
  }
  const adopt: TableName[] = [];
  if (c.version === 0 && !c.target.has(n.bare(set.anchor))) {
    const anchor = c.legacy.get(set.anchor);
    const owned = capkits(set.anchor, anchor)
      ? ownedTables(set, shape.get(set.anchor)!, anchor!, c)
      : undefined;
    // What looks like capkit's older tables (its meta's key, or a credentials table with every 0.1 column) and is
    // not adopted as it is must stop the store: opening empty beside them would make every enrolled token unknown.
    const core = [...shape.get(set.anchor)!.core];
    const looksOurs =
      set.legacy === "marker" &&
      (c.legacyMarker || (anchor !== undefined && core.every((x) => anchor.includes(x))));
    if (looksOurs && !owned) throw olderConflict(n, set.anchor, anchor);
    for (const table of looksOurs ? (owned ?? []) : [])
      if (c.legacy.has(table) && !capkits(table, c.legacy.get(table)))
        throw olderConflict(n, table, c.legacy.get(table));
    if (owned) {
      if (set.legacy === "marker" && c.legacyMarker && !c.target.has(n.bare("meta"))) adopt.push("meta");
      for (const table of owned) if (capkits(table, c.legacy.get(table))) adopt.push(table);
    }
  }
  const statements: string[] = [];
  if (!adopt.includes("meta")) statements.push(metaDdl(n));
  // capkit's old meta, when the prefixed one came first (the SQLite dev outbox opened before the verifier): its
  // rows (the unknown-subject key) join the prefixed meta, and the old table goes — it was capkit's own.
  if (
    engine === "sqlite" &&
    adopt.length > 0 &&
    set.legacy === "marker" &&
    c.legacyMarker &&
    !adopt.includes("meta")
  ) {
    const old = legacyNames().t.meta;
    statements.push(
      `INSERT INTO ${n.t.meta} (name, value) SELECT name, value FROM ${old} WHERE name NOT LIKE 'schema:%' ON CONFLICT (name) DO NOTHING;`,
      `DROP TABLE ${old};`,
    );
  }
  // Columns an adopted (or earlier) table lacks, before the DDL whose indexes may name them.
  for (const a of set.columnsAdded ?? []) {
    const columns = adopt.includes(a.table) ? c.legacy.get(a.table) : c.target.get(n.bare(a.table));
    if (columns !== undefined && !columns.includes(a.column))
      statements.push(`ALTER TABLE ${n.t[a.table]} ADD COLUMN ${a.column} ${a.definition};`);
  }
  for (const m of set.migrations.slice(c.version)) statements.push(m.sql(n, engine));
  if (adopt.length > 0 && set.legacy === "marker")
    statements.push(
      `INSERT INTO ${n.t.meta} (name, value) VALUES ('${ADOPTED_NAME}', '1') ON CONFLICT (name) DO NOTHING;`,
    );
  return { adopt, statements, from: c.version, to: last };
}

/** STORE_SCHEMA_CONFLICT: capkit's older (unprefixed) tables are there, but one is not as capkit left it. */
function olderConflict(n: TableNames, table: TableName, columns: readonly string[] | undefined): CapkitError {
  const found = columns === undefined ? "is missing" : `has the columns ${columns.join(", ")}`;
  return new CapkitError(
    "STORE_SCHEMA_CONFLICT",
    `this database holds capkit's tables from before the prefix, but its table "${table}" ${found}, not capkit's: nothing was adopted, and the store does not open empty beside them (every enrolled token would be unknown)`,
    {
      hint:
        `bring "${table}" back to the columns capkit created (drop the columns the application added), or, if ` +
        `the unprefixed tables are not capkit's, rename them; then open the store again (its tables would be ${n.t[table]})`,
      details: { table, ...(n.schema === undefined ? {} : { schema: n.schema }) },
    },
  );
}

/** The SQL that records a set's version (parameters: the row's name, the version). */
export const recordVersionSql = (n: TableNames, mark: (i: number) => string) =>
  `INSERT INTO ${n.t.meta} (name, value) VALUES (${mark(1)}, ${mark(2)}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`;

/** The SQL that reads the meta rows a plan needs (the version, the adoption record); parameter: the version's row name. */
export const metaRowsSql = (n: TableNames, mark: (i: number) => string) =>
  `SELECT name, value FROM ${n.t.meta} WHERE name IN (${mark(1)}, '${ADOPTED_NAME}')`;

/** Whether the rows of the unprefixed meta table include capkit's marker (parameter: none). */
export const legacyMarkerSql = (legacy: TableNames) =>
  `SELECT 1 AS ours FROM ${legacy.t.meta} WHERE name = '${UNKNOWN_KEY_NAME}'`;

/** Whether an unprefixed meta table has exactly capkit's columns (only then are its rows read). */
export const legacyMetaShaped = (columns: readonly string[] | undefined) =>
  columns !== undefined && sameSet(columns, META_COLUMNS);

/** The unprefixed names: the tables of the versions before the prefix. */
export const legacyNames = (schema?: string) => namesFor("", schema);
