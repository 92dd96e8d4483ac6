import { CapkitError } from "@capkit/core";

/**
 * Every table capkit creates in the application's database, by its logical name. The SQL of every store is built
 * from these names through a {@link TableNames} (once, when the store opens): no statement in the package names a
 * table literally (test: https://github.com/capkit/capkit/blob/main/packages/verify/test/table-names.test.ts), so the prefix and the PostgreSQL schema the
 * application chose apply to every table, index and sequence capkit touches, and to nothing else.
 */
export const TABLES = [
  // The verifier (src/stores/schema.ts).
  "meta",
  "credentials",
  "users",
  "challenges",
  "unknown_subjects",
  "audit",
  "audit_chains",
  "audit_checkpoints",
  // Provisioning (src/stores/provisioning-schema.ts).
  "provisioning_users",
  "provisioning_activations",
  "provisioning_instances",
  "provisioning_login_challenges",
  // Approvals, security events, grants (src/stores/security-schema.ts).
  "security_subjects",
  "security_events",
  "approval_devices",
  "operations",
  "receipt_heads",
  "receipts",
  "grants",
  // The development outbox (src/provisioning/dev-outbox-sqlite.ts).
  "dev_outbox",
] as const;

export type TableName = (typeof TABLES)[number];

/** The prefix of every table, index and sequence capkit creates, unless the application chooses another. */
export const DEFAULT_TABLE_PREFIX = "capkit_";

/** Where a store's tables live: the options every SQL store takes (PostgreSQL stores also take `schema`). */
export interface TableOptions {
  /**
   * Prefix of every table, index and sequence capkit creates (default `capkit_`): a lower-case SQL identifier
   * of at most 16 characters (`[a-z][a-z0-9_]*`), so no name capkit makes collides with the application's.
   */
  readonly tablePrefix?: string | undefined;
}

/** The names a store's statements are built from (quoted; on PostgreSQL qualified by the schema, if one). */
export interface TableNames {
  readonly prefix: string;
  /** The PostgreSQL schema the tables live in; undefined: the connection's own (its `search_path`). */
  readonly schema: string | undefined;
  /** Each table as a statement names it: `"capkit_users"`, or `"bank"."capkit_users"` with a schema. */
  readonly t: Readonly<Record<TableName, string>>;
  /** A table's bare name, as the catalog holds it (`capkit_users`). */
  bare(table: TableName): string;
  /** An index's name in CREATE INDEX (never qualified: an index lives in its table's schema). */
  index(name: string): string;
  /** A sequence or function: prefixed, quoted, qualified like the tables. */
  object(name: string): string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,15}$/;
const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The names for a prefix and schema, checked at the door (INPUT_INVALID): lower-case identifiers only, so a name
 * is never case-folded differently by the two engines and never needs escaping beyond its quotes.
 */
export function tableNames(prefix: unknown = DEFAULT_TABLE_PREFIX, schema?: unknown): TableNames {
  if (typeof prefix !== "string" || !PREFIX.test(prefix))
    throw new CapkitError(
      "INPUT_INVALID",
      "tablePrefix is a lower-case SQL identifier of 1 to 16 characters (a letter, then letters, digits or _)",
      { hint: `for example "${DEFAULT_TABLE_PREFIX}" (the default) or "auth_"` },
    );
  if (
    schema !== undefined &&
    (typeof schema !== "string" || !SCHEMA.test(schema) || schema.startsWith("pg_"))
  )
    throw new CapkitError(
      "INPUT_INVALID",
      "schema is a lower-case SQL identifier of at most 63 characters, not starting with pg_",
      { hint: 'for example "capkit"' },
    );
  return namesFor(prefix, schema);
}

/** Names without the checks: the tables an earlier version created unprefixed (src/stores/migrations.ts). */
export function namesFor(prefix: string, schema: string | undefined): TableNames {
  // The unprefixed names' schema is the server's current one, unchecked: a `"` in it is doubled.
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const qualify = (name: string) => (schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`);
  const t = Object.fromEntries(TABLES.map((n) => [n, qualify(prefix + n)])) as Record<TableName, string>;
  return {
    prefix,
    schema,
    t: Object.freeze(t),
    bare: (table) => prefix + table,
    index: (name) => `"${prefix}${name}"`,
    object: (name) => qualify(prefix + name),
  };
}
