// Runs in a project that installed @capkit/verify without any database driver: the core works, and each
// store says which package to install instead of failing on import.
import assert from "node:assert/strict";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { PostgresStore } from "@capkit/verify/postgres";
import { SqliteStore } from "@capkit/verify/sqlite";

const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
assert.ok(new Verifier({ store: new MemoryStore(), keys }));

function expectMissing(e, pkg) {
  assert.equal(e?.code, "STORE_UNAVAILABLE", String(e));
  assert.ok(e.message.includes(`"${pkg}"`), e.message);
  assert.match(e.hint, new RegExp(`npm install ${pkg}$`));
}
try {
  new SqliteStore("unused.db");
  assert.fail("SqliteStore without better-sqlite3");
} catch (e) {
  expectMissing(e, "better-sqlite3");
}
try {
  await PostgresStore.connect("postgres://127.0.0.1:1/unused");
  assert.fail("PostgresStore without pg");
} catch (e) {
  expectMissing(e, "pg");
}
console.log("drivers ok: the core without drivers, typed errors naming better-sqlite3 and pg");
