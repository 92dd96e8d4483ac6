// Runs in a project that installed @capkit/verify without any database driver: the core works, and each
// store says which package to install instead of failing on import.
import assert from "node:assert/strict";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
import { PostgresStore } from "@capkit/verify/postgres";
import { SqliteStore } from "@capkit/verify/sqlite";

const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
assert.ok(new Verifier({ store: new MemoryStore(), keys }));

function expectMissing(e, pkg, code = "STORE_UNAVAILABLE") {
  assert.equal(e?.code, code, String(e));
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
try {
  Pkcs11KeyProvider.open({ module: "/unused/libsofthsm2.so", token: "t", pin: "0000" });
  assert.fail("Pkcs11KeyProvider without pkcs11js");
} catch (e) {
  expectMissing(e, "pkcs11js", "KEY_UNAVAILABLE");
}
console.log("drivers ok: the core without drivers, typed errors naming better-sqlite3, pg and pkcs11js");
