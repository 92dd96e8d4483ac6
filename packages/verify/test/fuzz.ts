import { randomBytes } from "node:crypto";
import { isCapkitError } from "@capkit/core";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { watchWrites } from "./store-writes.js";

/** What a caller may get for a call that is not a store failure: bad input, or an answer about the ids. */
const INPUT_ERRORS = new Set([
  "INPUT_INVALID",
  "CREDENTIAL_INVALID",
  "PROFILE_INVALID",
  "KEY_INVALID",
  "HEX_INVALID",
  "OTP_SECRET_INVALID",
  "OTP_SECRET_TOO_SHORT",
  "OCRA_SUITE_INVALID",
  "OCRA_INPUT_INVALID",
  "CDOL_INCOMPLETE",
  "TLV_MALFORMED",
  "CRYPTO_UNSUPPORTED",
]);
const ANSWERS = new Set(["CREDENTIAL_UNKNOWN", "CREDENTIAL_EXISTS"]);

/**
 * Every public method of the Verifier, called with hostile arguments (issue 20: 157,437 of 555,540 fuzzed calls
 * answered STORE_UNAVAILABLE, and 120,733 threw untyped errors): every call answers, or fails with a typed
 * error; never STORE_UNAVAILABLE for bad input, never a write to the store for it, never a crash.
 */
export function fuzzConformance(name: string, open: () => Promise<StateStore>, runs: number): void {
  describe(`The verifier's door, fuzzed, on ${name}`, () => {
    let store: StateStore;
    let verifier: Verifier;
    let writes = 0;
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
    const tag = randomBytes(4).toString("hex");
    const ids = {
      card: `fz-card-${tag}`,
      totp: `fz-totp-${tag}`,
      ocra: `fz-ocra-${tag}`,
      user: `fz-user-${tag}`,
    };
    const card = new SimulatedCard(newSimCardState("uk", "1234"));
    const challengeIds: string[] = [];

    beforeAll(async () => {
      const real = await open();
      store = watchWrites(real, () => writes++);
      verifier = new Verifier({ store, keys });
      await verifier.enroll({ id: ids.card, user: ids.user, kind: "cap", record: card.issuerRecord() });
      await verifier.enroll({ id: ids.totp, user: ids.user, kind: "totp", secret: randomBytes(20) });
      await verifier.enroll({
        id: ids.ocra,
        kind: "ocra",
        secret: randomBytes(32),
        suite: "OCRA-1:HOTP-SHA256-8:QN08",
      });
      for (const fn of ["respond", "sign"] as const)
        challengeIds.push((await verifier.issueChallenge(ids.card, fn)).challengeId);
    });
    afterAll(() => store?.close());

    // Values a hostile caller sends: wrong types, prototype names, NUL, huge strings, numbers for codes.
    const hostile = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        "constructor",
        "__proto__",
        "toString",
        "hasOwnProperty",
        "a\u0000b",
        "x".repeat(200),
        "9".repeat(5000),
        "",
        " ",
      ),
      fc.integer(),
      fc.double(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, 123456),
      fc.boolean(),
      fc.constantFrom(null, undefined),
      fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("a", "constructor", "__proto__", "kind"), fc.string({ maxLength: 4 }), {
        maxKeys: 2,
      }),
    );
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, hostile, fc.constant(undefined));
    const id = maybe(fc.constantFrom(ids.card, ids.totp, ids.ocra, "nobody", `u-${tag}`));
    const user = maybe(fc.constantFrom(ids.user, "nobody", `u-${tag}`));
    const code = maybe(fc.constantFrom("123456", "1234 5678", "12345678", "00000000", "12a456"));
    const fn = maybe(fc.constantFrom("identify", "respond", "sign", "ocra"));
    const challengeId = maybe(fc.constantFrom(...Array.from({ length: 2 }, (_, i) => i), "f".repeat(32)));
    const request = fc.oneof(
      hostile,
      fc.record(
        {
          id,
          user,
          code,
          function: fn,
          challengeId: challengeId.map((c) => (typeof c === "number" ? challengeIds[c] : c)),
          amount: maybe(fc.constantFrom("12.34", "1", "1234567890.12", "1.234")),
          currency: maybe(fc.constantFrom("978", "EUR", "97")),
          tds: maybe(fc.constantFrom(["1234"], ["1", "2"], Array(11).fill("1"), [1234])),
          requestId: maybe(fc.constantFrom("req-1", "bad id!")),
          extra: fc.constantFrom(undefined, undefined, "typo"),
        },
        { requiredKeys: [] },
      ),
    );
    const enrolment = fc.oneof(
      hostile,
      fc.record(
        {
          id: maybe(fc.constantFrom(`fz-new-${tag}`, ids.card)),
          user,
          kind: maybe(fc.constantFrom("cap", "hotp", "totp", "ocra", "constructor", "toString")),
          record: maybe(
            fc.constantFrom(
              card.issuerRecord(),
              { ...card.issuerRecord(), profile: "constructor" },
              { ...card.issuerRecord(), cryptogramVersion: "constructor" },
              { ...card.issuerRecord(), key: { kind: "constructor" } },
            ),
          ),
          secret: maybe(fc.constantFrom(randomBytes(20), new Uint8Array(0), "secret")),
          suite: maybe(fc.constantFrom("OCRA-1:HOTP-SHA1-6:QN08", "constructor")),
          algorithm: maybe(fc.constantFrom("SHA1", "constructor", "toString")),
          digits: maybe(fc.constantFrom(6, 8, 0, 1.5)),
          counter: maybe(fc.constantFrom(0, -1, 2 ** 53)),
          step: maybe(fc.constantFrom(30, 0)),
          lastAtc: maybe(fc.constantFrom(0, 0x10000)),
        },
        { requiredKeys: [] },
      ),
    );
    const call = fc.oneof(
      fc.tuple(fc.constant("verify"), request),
      fc.tuple(
        fc.constant("checkFactor"),
        fc.record({ user, factor: maybe(fc.constant("password")), ok: maybe(fc.boolean()) }),
      ),
      fc.tuple(fc.constant("checkFactor"), hostile),
      fc.tuple(fc.constant("addUser"), user),
      fc.tuple(fc.constant("issueChallenge"), id, fn),
      fc.tuple(fc.constant("resync"), id, code, code),
      fc.tuple(fc.constantFrom("unlock", "disable", "enable", "status"), id),
      fc.tuple(fc.constantFrom("unlockUser", "userStatus"), user),
      fc.tuple(
        fc.constant("list"),
        maybe(
          fc.record(
            { after: id, user, limit: maybe(fc.constantFrom(1, 0, 1001, 1.5)) },
            { requiredKeys: [] },
          ),
        ),
      ),
      fc.tuple(fc.constant("audit"), id, maybe(fc.constantFrom(1, 0, 1e9, 2.5))),
      fc.tuple(
        fc.constant("pruneAudit"),
        maybe(
          fc.oneof(
            fc.constantFrom(new Date(Number.NaN), new Date(0), 0),
            fc.record(
              { before: maybe(fc.constant(0)), maxRows: maybe(fc.constantFrom(10, -1, 1.5)) },
              { requiredKeys: [] },
            ),
          ),
        ),
      ),
      fc.tuple(
        fc.constant("auditTrail"),
        maybe(
          fc.record(
            {
              after: maybe(fc.constantFrom(0, -1, 1.5)),
              limit: maybe(fc.constantFrom(1, 0)),
              user,
              credential: id,
              since: maybe(fc.constant(0)),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
      fc.tuple(
        fc.constant("maintainAudit"),
        maybe(
          fc.record(
            {
              days: maybe(fc.constantFrom(400, 0)),
              maxRows: maybe(fc.constant(1e9)),
              maxBytes: maybe(fc.constant(1e10)),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
      fc.tuple(fc.constant("enroll"), enrolment),
      fc.tuple(fc.constant("replace"), id, enrolment),
      fc.tuple(
        fc.constant("constructor"),
        maybe(
          fc.record(
            { policy: maybe(fc.record({ maxFailures: hostile }, { requiredKeys: [] })), cacheSize: hostile },
            { requiredKeys: [] },
          ),
        ),
      ),
    );

    it(`${runs} runs of hostile calls to every public method: an answer or a typed error, never STORE_UNAVAILABLE, never a write for bad input`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 8 }), async (calls) => {
          for (const [method, ...args] of calls) {
            const before = writes;
            let outcome: unknown;
            try {
              outcome =
                method === "constructor"
                  ? new Verifier({ store, keys, ...(args[0] as object) })
                  : await (verifier as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
                      method
                    ]!(...args);
            } catch (e) {
              const what = `${method}(${JSON.stringify(args)?.slice(0, 300)})`;
              expect(isCapkitError(e), `${what} threw ${String(e)}`).toBe(true);
              const c = (e as { code: string }).code;
              expect(INPUT_ERRORS.has(c) || ANSWERS.has(c), `${what} → ${c}: ${(e as Error).message}`).toBe(
                true,
              );
              if (INPUT_ERRORS.has(c)) expect(writes, `${what} → ${c} wrote to the store`).toBe(before);
              continue;
            }
            if (method === "verify" || method === "resync" || method === "checkFactor")
              expect(["accepted", "rejected", "locked"]).toContain((outcome as { result: string }).result);
          }
          // Keep the fixtures usable from one run to the next.
          await verifier.unlockUser(ids.user);
          await verifier.unlock(ids.ocra).catch(() => {});
          await verifier.enable(ids.card).catch(() => {});
          await verifier.enable(ids.totp).catch(() => {});
        }),
        { numRuns: runs },
      );
    }, 120_000);
  });
}
