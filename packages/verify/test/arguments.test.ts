import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CapkitErrorCode, isRecord } from "@capkit/core";
import { startSoftHsm } from "@capkit/test-support";
import {
  type ArgumentCase,
  call,
  checkArguments,
  construct,
  integer,
  matching,
  never,
  oneOf,
  optional,
  options,
} from "@capkit/test-support/arguments";
import { afterAll, describe as group } from "vitest";
import {
  auditCsv,
  auditJsonLines,
  MemoryStore,
  readMaterialFile,
  SoftwareKeyProvider,
  sourceThrottle,
  steadyClock,
  Verifier,
  verifyAuditTrail,
} from "../src/index.js";
import { Pkcs11KeyProvider } from "../src/pkcs11.js";
import { watchWrites } from "./store-writes.js";

/**
 * What a plain-JavaScript caller can get wrong in @capkit/verify's main entry (issue 21), each public function's
 * and constructor's arguments one at a time (@capkit/test-support/arguments): a wrong type or unit is refused
 * with a typed CapkitError whose message names the argument and says what was expected — and, for the
 * Verifier, before the store is asked anything: no failure counted, no audit row, no challenge taken.
 */

const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const CREDENTIAL: readonly CapkitErrorCode[] = ["CREDENTIAL_INVALID"];
const KEY: readonly CapkitErrorCode[] = ["KEY_INVALID"];

/** Ids as enrolled (src/requests.ts). */
const id = matching(/^[\w.@:+-]{1,128}$/);
const code = (x: unknown) => typeof x === "string" && x.length <= 64;
const source = matching(/^[\x21-\x7e]{1,256}$/);
const hex32 = matching(/^[0-9a-f]{32}$/);
const time = (x: unknown) =>
  (typeof x === "number" && Number.isSafeInteger(x)) ||
  (x instanceof Date && Number.isSafeInteger(x.getTime()));
const fn = (x: unknown) => typeof x === "function";
const bool = (x: unknown) => typeof x === "boolean";
/** A master key for these calls only (never a deployment's). */
const HEX64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const KEY_FILE = join(mkdtempSync(join(tmpdir(), "capkit-arguments-")), "keys.json");
writeFileSync(KEY_FILE, JSON.stringify({ masterKey: HEX64 }), { mode: 0o600 });

let calls = 0;
const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
const memory = new MemoryStore();
const store = watchWrites(memory, () => calls++);
const verifier = new Verifier({ store, keys });
const secret = randomBytes(20);
let fresh = 0;
const ready = (async () => {
  await verifier.enroll({ id: "hotp-1", user: "alice", kind: "hotp", secret });
  await verifier.enroll({ id: "totp-1", kind: "totp", secret });
  await verifier.enroll({ id: "ocra-1", kind: "ocra", secret, suite: "OCRA-1:HOTP-SHA1-6:QN08" });
})();

/** A Verifier method called as plain JavaScript; the store's calls counted from here. */
const method =
  (name: keyof Verifier, before?: () => Promise<unknown>) =>
  async (...args: unknown[]) => {
    await ready;
    await before?.();
    calls = 0;
    return Reflect.apply(verifier[name] as (...a: unknown[]) => unknown, verifier, args);
  };
/** A credential the destructive methods may act on (enrolled again when gone). */
const present = (id: string) => async () => {
  if (!(await memory.get(id))) await verifier.enroll({ id, kind: "totp", secret });
};
const nothingAsked = () => {
  if (calls !== 0) throw new Error(`the store was written ${calls} time(s) for a refused argument`);
};

const VERIFIER_CASES: ArgumentCase[] = [
  {
    name: "new Verifier(options)",
    args: () => [{ store: memory, keys }],
    call: construct(Verifier),
    positions: [
      { arg: 0, names: /^the verifier options /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "store", names: /^options\.store /, codes: INPUT, valid: never },
      { arg: 0, field: "keys", names: /^options\.keys /, codes: INPUT, valid: never },
      {
        arg: 0,
        field: "policy",
        names: /^the policy /,
        codes: INPUT,
        valid: optional(noFields),
        inner: INPUT,
      },
      { arg: 0, field: "now", names: /^options\.now /, codes: INPUT, valid: optional(fn) },
      {
        arg: 0,
        field: "cacheSize",
        names: /^options\.cacheSize /,
        codes: INPUT,
        valid: optional(integer(1, 10_000_000)),
      },
      {
        arg: 0,
        field: "subjectWaitMs",
        names: /^options\.subjectWaitMs /,
        codes: INPUT,
        valid: optional(integer(0, 600_000)),
      },
      { arg: 0, field: "throttle", names: /^options\.throttle /, codes: INPUT, valid: optional(fn) },
      { arg: 0, field: "actor", names: /^the actor /, codes: INPUT, valid: optional(source) },
    ],
  },
  {
    name: "new Verifier({ policy })",
    args: () => [{ maxFailures: 5, totpFollowDrift: false, challengeTtlMs: 60_000 }],
    call: (policy) => new Verifier({ store: memory, keys, policy: policy as object }),
    positions: [
      {
        arg: 0,
        field: "maxFailures",
        names: /^policy\.maxFailures /,
        codes: INPUT,
        valid: optional(integer(1, 1000)),
      },
      {
        arg: 0,
        field: "challengeTtlMs",
        names: /^policy\.challengeTtlMs /,
        codes: INPUT,
        valid: optional(integer(1000, 86_400_000)),
      },
      {
        arg: 0,
        field: "totpFollowDrift",
        names: /^policy\.totpFollowDrift /,
        codes: INPUT,
        valid: optional(bool),
      },
    ],
  },
  {
    name: "verifier.verify({ id, code, tds, requestId, source })",
    args: () => [{ id: "hotp-1", code: "123456", tds: ["1234"], requestId: "r-1", source: "10.0.0.1" }],
    call: method("verify"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^a verification request /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "id", names: /^(the credential id |verify needs an id)/, codes: INPUT, valid: id },
      { arg: 0, field: "code", names: /^the code /, codes: INPUT, valid: code },
      {
        arg: 0,
        field: "tds",
        names: /^(tds |TDS |each TDS )/,
        codes: INPUT,
        valid: optional(never),
        inner: INPUT,
      },
      { arg: 0, field: "requestId", names: /^the request id /, codes: INPUT, valid: optional(id) },
      { arg: 0, field: "source", names: /^the source /, codes: INPUT, valid: optional(source) },
      {
        arg: 0,
        field: "function",
        names: /^the function /,
        codes: INPUT,
        valid: optional(oneOf("identify", "respond", "sign", "ocra")),
      },
    ],
  },
  {
    name: "verifier.verify({ id, code, function: sign, challengeId, amount, currency })",
    args: () => [
      {
        id: "hotp-1",
        code: "12345678",
        function: "sign",
        challengeId: "0123456789abcdef0123456789abcdef",
        amount: "12.34",
        currency: "978",
      },
    ],
    call: method("verify"),
    afterRefusal: nothingAsked,
    positions: [
      {
        arg: 0,
        field: "challengeId",
        names: /^(the challenge id |sign answers a challenge)/,
        codes: INPUT,
        valid: hex32,
      },
      {
        arg: 0,
        field: "amount",
        names: /^(the amount |sign needs the amount)/,
        codes: INPUT,
        valid: matching(/^\s*[0-9]{1,10}([.,][0-9]{1,2})?\s*$/),
      },
      {
        arg: 0,
        field: "currency",
        names: /^the currency /,
        codes: INPUT,
        valid: optional(matching(/^[0-9]{3}$/)),
      },
    ],
  },
  {
    name: "verifier.verify({ user, code })",
    args: () => [{ user: "alice", code: "123456" }],
    call: method("verify"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, field: "user", names: /^(the user id |verify needs an id)/, codes: INPUT, valid: id },
    ],
  },
  {
    name: "verifier.checkFactor({ user, factor, ok, source })",
    args: () => [{ user: "alice", factor: "password", ok: true, source: "10.0.0.1" }],
    call: method("checkFactor"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^a factor request /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "user", names: /^a user id /, codes: INPUT, valid: id },
      { arg: 0, field: "factor", names: /^a factor /, codes: INPUT, valid: matching(/^[\w.:+-]{1,32}$/) },
      { arg: 0, field: "ok", names: /^ok /, codes: INPUT, valid: bool },
      { arg: 0, field: "source", names: /^the source /, codes: INPUT, valid: optional(source) },
    ],
  },
  {
    name: "verifier.addUser(user)",
    args: () => ["bob"],
    call: method("addUser"),
    afterRefusal: nothingAsked,
    positions: [{ arg: 0, names: /^a user id /, codes: INPUT, valid: id }],
  },
  {
    name: "verifier.issueChallenge(id, fn, options)",
    args: () => ["ocra-1", "ocra", { source: "10.0.0.1" }],
    call: method("issueChallenge"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the credential id /, codes: INPUT, valid: id },
      { arg: 1, names: /^a challenge is issued /, codes: INPUT, valid: oneOf("respond", "sign", "ocra") },
      { arg: 2, names: /^the challenge options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 2, field: "source", names: /^the source /, codes: INPUT, valid: optional(source) },
    ],
  },
  {
    name: "verifier.resync(id, code1, code2, options)",
    args: () => ["hotp-1", "123456", "234567", {}],
    call: method("resync"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the credential id /, codes: INPUT, valid: id },
      { arg: 1, names: /^the first code /, codes: INPUT, valid: code },
      { arg: 2, names: /^the second code /, codes: INPUT, valid: code },
      { arg: 3, names: /^the resync options /, codes: INPUT, valid: options, inner: INPUT },
    ],
  },
  ...(["unlock", "disable", "enable", "status"] as const).map(
    (name): ArgumentCase => ({
      name: `verifier.${name}(id)`,
      args: () => ["totp-1"],
      call: method(name),
      afterRefusal: nothingAsked,
      positions: [{ arg: 0, names: /^the credential id /, codes: INPUT, valid: id }],
    }),
  ),
  {
    name: "verifier.revoke(id)",
    args: () => ["revoked-1"],
    call: method("revoke", present("revoked-1")),
    afterRefusal: nothingAsked,
    positions: [{ arg: 0, names: /^the credential id /, codes: INPUT, valid: id }],
  },
  ...(["unlockUser", "userStatus"] as const).map(
    (name): ArgumentCase => ({
      name: `verifier.${name}(user)`,
      args: () => ["alice"],
      call: method(name),
      afterRefusal: nothingAsked,
      positions: [{ arg: 0, names: /^the user id /, codes: INPUT, valid: id }],
    }),
  ),
  {
    name: "verifier.list({ after, limit, user })",
    args: () => [{ after: "a", limit: 10, user: "alice" }],
    call: method("list"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the list options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 0, field: "after", names: /^after /, codes: INPUT, valid: optional(id) },
      { arg: 0, field: "limit", names: /^the page size /, codes: INPUT, valid: optional(integer(1, 1000)) },
      { arg: 0, field: "user", names: /^the user id /, codes: INPUT, valid: optional(id) },
    ],
  },
  {
    name: "verifier.audit(id, limit)",
    args: () => ["hotp-1", 10],
    call: method("audit"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the credential or user id /, codes: INPUT, valid: optional(id) },
      { arg: 1, names: /^the number of entries /, codes: INPUT, valid: optional(integer(1, 100_000)) },
    ],
  },
  {
    name: "verifier.auditTrail({ after, limit, credential, user, since, until })",
    args: () => [{ after: 0, limit: 10, credential: "hotp-1", user: "alice", since: 0, until: Date.now() }],
    call: method("auditTrail"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the audit query /, codes: INPUT, valid: options, inner: INPUT },
      {
        arg: 0,
        field: "after",
        names: /^after /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      { arg: 0, field: "limit", names: /^the page size /, codes: INPUT, valid: optional(integer(1, 10_000)) },
      { arg: 0, field: "credential", names: /^the credential id /, codes: INPUT, valid: optional(id) },
      { arg: 0, field: "user", names: /^the user id /, codes: INPUT, valid: optional(id) },
      { arg: 0, field: "since", names: /^since /, codes: INPUT, valid: optional(time) },
      { arg: 0, field: "until", names: /^until /, codes: INPUT, valid: optional(time) },
    ],
  },
  {
    name: "verifier.pruneAudit(before)",
    args: () => [new Date(0)],
    call: method("pruneAudit"),
    afterRefusal: nothingAsked,
    positions: [{ arg: 0, names: /^pruneAudit's (date|bounds) /, codes: INPUT, valid: time, inner: INPUT }],
  },
  {
    name: "verifier.pruneAudit({ before, maxRows, maxBytes })",
    args: () => [{ before: 0, maxRows: 1_000_000, maxBytes: 1e9 }],
    call: method("pruneAudit"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, field: "before", names: /^pruneAudit's date /, codes: INPUT, valid: optional(time) },
      {
        arg: 0,
        field: "maxRows",
        names: /^maxRows /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
    ],
  },
  {
    name: "verifier.maintainAudit(retention)",
    args: () => [{ days: 400, maxRows: 1_000_000, maxBytes: 1e9 }],
    call: method("maintainAudit"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the audit retention /, codes: INPUT, valid: optional(never), inner: INPUT },
      { arg: 0, field: "days", names: /^retention\.days /, codes: INPUT, valid: integer(1, 36_500) },
      {
        arg: 0,
        field: "maxRows",
        names: /^retention\.maxRows /,
        codes: INPUT,
        valid: integer(1, Number.MAX_SAFE_INTEGER),
      },
    ],
  },
  {
    name: "verifier.rekey({ actor, pageSize, onProgress })",
    args: () => [{ actor: "ops", pageSize: 10, onProgress: () => {} }],
    call: method("rekey"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the rekey options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 0, field: "actor", names: /^the actor /, codes: INPUT, valid: optional(source) },
      { arg: 0, field: "pageSize", names: /^pageSize /, codes: INPUT, valid: optional(integer(1, 10_000)) },
      { arg: 0, field: "onProgress", names: /^onProgress /, codes: INPUT, valid: optional(fn) },
    ],
  },
  {
    name: "verifier.enroll({ id, user, kind: totp, secret, algorithm, digits, step, t0 })",
    args: () => [
      {
        id: `t-${++fresh}`,
        user: "carol",
        kind: "totp",
        secret,
        algorithm: "SHA1",
        digits: 6,
        step: 30,
        t0: 0,
        followDrift: false,
      },
    ],
    call: method("enroll"),
    afterRefusal: nothingAsked,
    positions: [
      {
        arg: 0,
        names: /^an enrolment request /,
        codes: INPUT,
        valid: never,
        inner: [...INPUT, ...CREDENTIAL],
      },
      { arg: 0, field: "id", names: /^a credential id /, codes: CREDENTIAL, valid: id },
      { arg: 0, field: "user", names: /^a user id /, codes: CREDENTIAL, valid: optional(id) },
      { arg: 0, field: "kind", names: /^the credential kind /, codes: CREDENTIAL, valid: never },
      {
        arg: 0,
        field: "secret",
        names: /^the secret /,
        codes: ["OTP_SECRET_INVALID", "OTP_SECRET_TOO_SHORT"],
        valid: (x) => x instanceof Uint8Array && x.length >= 16,
      },
      {
        arg: 0,
        field: "algorithm",
        names: /^the algorithm /,
        codes: INPUT,
        valid: optional(oneOf("SHA1", "SHA256", "SHA512")),
      },
      { arg: 0, field: "digits", names: /^digits /, codes: INPUT, valid: optional(integer(6, 10)) },
      { arg: 0, field: "step", names: /^step /, codes: INPUT, valid: optional(integer(1, 86_400)) },
      {
        arg: 0,
        field: "t0",
        names: /^t0 /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      { arg: 0, field: "followDrift", names: /^followDrift /, codes: INPUT, valid: optional(bool) },
    ],
  },
  {
    name: "verifier.enroll({ id, kind: hotp, secret, counter, lookAhead }, { replaces })",
    args: () => [{ id: `h-${++fresh}`, kind: "hotp", secret, counter: 0, lookAhead: 10 }, {}],
    call: method("enroll"),
    afterRefusal: nothingAsked,
    positions: [
      {
        arg: 0,
        field: "counter",
        names: /^counter /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      { arg: 0, field: "lookAhead", names: /^lookAhead /, codes: INPUT, valid: optional(integer(0, 1000)) },
      { arg: 1, names: /^the enrolment options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 1, field: "replaces", names: /^the id it replaces /, codes: INPUT, valid: optional(id) },
    ],
  },
  {
    name: "verifier.replace(oldId, request)",
    args: () => ["hotp-1", { id: `r-${++fresh}`, kind: "hotp", secret }],
    call: method("replace"),
    afterRefusal: nothingAsked,
    positions: [
      { arg: 0, names: /^the id of the credential replaced /, codes: INPUT, valid: id },
      {
        arg: 1,
        names: /^an enrolment request /,
        codes: INPUT,
        valid: never,
        inner: [...INPUT, ...CREDENTIAL],
      },
    ],
  },
];

/** A real token (SoftHSM2) for the PKCS#11 provider's valid calls; this process's module reads its config. */
const hsm = startSoftHsm("capkit-arguments");
hsm.use();
afterAll(() => hsm.dispose());
const text = (max: number) => (x: unknown) =>
  typeof x === "string" && x !== "" && x.length <= max && !x.includes("\0");

const CASES: ArgumentCase[] = [
  {
    name: "Pkcs11KeyProvider.open(options)",
    args: () => [
      { module: hsm.module, token: hsm.token, pin: hsm.pin, label: "capkit", allowTestKeys: false },
    ],
    call: (o) => Pkcs11KeyProvider.open(o as never).close(),
    positions: [
      { arg: 0, names: /^the PKCS#11 options /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "module", names: /^the module /, codes: INPUT, valid: text(4096) },
      { arg: 0, field: "token", names: /^the token's label /, codes: INPUT, valid: text(32) },
      { arg: 0, field: "pin", names: /^the PIN /, codes: INPUT, valid: text(255) },
      { arg: 0, field: "label", names: /^the key label /, codes: INPUT, valid: optional(text(64)) },
      { arg: 0, field: "allowTestKeys", names: /^allowTestKeys /, codes: INPUT, valid: optional(bool) },
    ],
  },
  {
    name: "new MemoryStore(options)",
    args: () => [{ auditLimit: 100, auditMaxBytes: 1 << 20, unknownLimit: 100 }],
    call: construct(MemoryStore),
    positions: [
      { arg: 0, names: /^the memory store's options /, codes: INPUT, valid: options, inner: INPUT },
      {
        arg: 0,
        field: "auditLimit",
        names: /^auditLimit /,
        codes: INPUT,
        valid: optional(integer(1, 10_000_000)),
      },
      {
        arg: 0,
        field: "auditMaxBytes",
        names: /^auditMaxBytes /,
        codes: INPUT,
        valid: optional(integer(1024, Number.MAX_SAFE_INTEGER)),
      },
      {
        arg: 0,
        field: "unknownLimit",
        names: /^unknownLimit /,
        codes: INPUT,
        valid: optional(integer(1, 100_000_000)),
      },
    ],
  },
  {
    name: "new SoftwareKeyProvider(material)",
    args: () => [{ masterKey: HEX64, previousMasterKeys: [], issuerKeys: {}, allowTestKeys: false }],
    call: construct(SoftwareKeyProvider),
    positions: [
      { arg: 0, names: /^key material /, codes: KEY, valid: never, inner: KEY },
      { arg: 0, field: "masterKey", names: /^masterKey /, codes: KEY, valid: matching(/^[0-9a-fA-F]{64}$/) },
      {
        arg: 0,
        field: "previousMasterKeys",
        names: /^previousMasterKeys/,
        codes: KEY,
        valid: optional((x) => Array.isArray(x) && x.length === 0),
        inner: KEY,
      },
      {
        arg: 0,
        field: "issuerKeys",
        names: /^(issuerKeys |issuer key )/,
        codes: KEY,
        valid: optional(noFields),
        inner: KEY,
      },
      { arg: 0, field: "allowTestKeys", names: /^allowTestKeys /, codes: KEY, valid: optional(bool) },
    ],
  },
  {
    name: "SoftwareKeyProvider.generateMaterial(options)",
    args: () => [{ allowTestKeys: true }],
    call: (o) => SoftwareKeyProvider.generateMaterial(o as { allowTestKeys?: boolean }),
    positions: [
      { arg: 0, names: /^the material's options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 0, field: "allowTestKeys", names: /^allowTestKeys /, codes: INPUT, valid: optional(bool) },
    ],
  },
  {
    name: "SoftwareKeyProvider.fromEnv(name)",
    args: () => ["CAPKIT_ARGUMENTS_TEST_KEYS"],
    // Only the test's variable is set during the call: a generated name that happens to be set in the
    // runner's environment (`_`, `HOME`…) would otherwise be read, and refused for its contents.
    call: (name) => {
      const runner = process.env;
      process.env = { CAPKIT_ARGUMENTS_TEST_KEYS: JSON.stringify({ masterKey: HEX64 }) };
      try {
        return SoftwareKeyProvider.fromEnv(name as string);
      } finally {
        process.env = runner;
      }
    },
    // A valid name that is not set is KEY_INVALID, saying so.
    positions: [
      { arg: 0, names: /^(the variable's name |\S+ is not set)/, codes: [...INPUT, ...KEY], valid: never },
    ],
  },
  {
    name: "readMaterialFile(path)",
    args: () => [KEY_FILE],
    call: call(readMaterialFile),
    positions: [
      {
        arg: 0,
        names: /^(the key file's path |cannot read the key file )/,
        codes: [...INPUT, ...KEY],
        valid: never,
      },
    ],
  },
  {
    name: "sourceThrottle(options)",
    args: () => [{ perMinute: 30, burst: 5, sources: 100, now: Date.now }],
    call: call(sourceThrottle),
    positions: [
      { arg: 0, names: /^the throttle options /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "perMinute", names: /^perMinute /, codes: INPUT, valid: integer(1, 1_000_000) },
      { arg: 0, field: "burst", names: /^burst /, codes: INPUT, valid: optional(integer(1, 1_000_000)) },
      { arg: 0, field: "sources", names: /^sources /, codes: INPUT, valid: optional(integer(1, 10_000_000)) },
      { arg: 0, field: "now", names: /^now /, codes: INPUT, valid: optional(fn) },
    ],
  },
  {
    name: "steadyClock(options)",
    args: () => [{ wall: Date.now, monotonic: () => performance.now(), slew: 0.01 }],
    call: call(steadyClock),
    positions: [
      { arg: 0, names: /^the steady clock's options /, codes: INPUT, valid: options, inner: INPUT },
      { arg: 0, field: "wall", names: /^wall /, codes: INPUT, valid: optional(fn) },
      { arg: 0, field: "monotonic", names: /^monotonic /, codes: INPUT, valid: optional(fn) },
      {
        arg: 0,
        field: "slew",
        names: /^slew /,
        codes: INPUT,
        valid: optional((x) => typeof x === "number" && x >= 0 && x <= 1),
      },
    ],
  },
  {
    name: "verifyAuditTrail(entries, checkpoints, publicKeys)",
    args: () => [[], [], {}],
    call: call(verifyAuditTrail),
    positions: [
      {
        arg: 0,
        names: /^(the entries |entries\[)/,
        codes: INPUT,
        valid: (x) => Array.isArray(x) && !x.length,
        inner: INPUT,
      },
      {
        arg: 1,
        names: /^(the checkpoints |checkpoints\[)/,
        codes: INPUT,
        valid: (x) => Array.isArray(x) && !x.length,
        inner: INPUT,
      },
      {
        arg: 2,
        names: /^the public keys /,
        codes: INPUT,
        valid: (x) => x !== null && typeof x === "object" && !Array.isArray(x) && !Object.keys(x).length,
        inner: INPUT,
      },
    ],
  },
  ...[auditCsv, auditJsonLines].map(
    (f): ArgumentCase => ({
      name: `${f.name}(entries)`,
      args: () => [[{ at: 0, credentialId: "c", action: "verify", result: "accepted" }]],
      call: call(f),
      positions: [
        {
          arg: 0,
          names: /^(the entries |entries\[)/,
          codes: INPUT,
          valid: (x) => (Array.isArray(x) || x instanceof Uint8Array) && !x.length,
          inner: INPUT,
        },
      ],
    }),
  ),
];

group("@capkit/verify's Verifier, argument by argument: refused at the door, the store not asked", () => {
  checkArguments(VERIFIER_CASES, 100);
});

group("@capkit/verify's stores, keys, throttle, clock and audit, argument by argument", () => {
  checkArguments(CASES);
});

/**
 * An object that sets no field: `{}`, or fields given as undefined (`{ "": undefined }`), which the door reads
 * as absent, as `exactOptionalPropertyTypes` callers write them.
 */
function noFields(x: unknown): boolean {
  return isRecord(x) && Object.values(x).every((v) => v === undefined);
}
