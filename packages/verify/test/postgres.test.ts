import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { FakeClock, SgpassToken } from "@capkit/token-sim";
import pgDriver from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, Verifier } from "../src/index.js";
import { PostgresStore } from "../src/postgres.js";
import { attackConformance } from "./attack.js";
import { conformance } from "./conformance.js";
import { fuzzConformance } from "./fuzz.js";
import { burstAcrossProcesses } from "./processes.js";

/** A real PostgreSQL server, started here in a temporary directory (never skipped). */
let pg: Postgres;
const ready = startPostgres().then((p) => {
  pg = p;
  return p;
});

conformance("PostgreSQL", async () => PostgresStore.connect((await ready).url));
// The same suite in a schema of its own, with another prefix (src/stores/tables.ts).
conformance("PostgreSQL (schema bank_capkit, tablePrefix auth_)", async () =>
  PostgresStore.connect((await ready).url, { schema: "bank_capkit", tablePrefix: "auth_" }),
);
attackConformance("PostgreSQL", async (o) => PostgresStore.connect((await ready).url, o));
fuzzConformance(
  "PostgreSQL",
  async () => PostgresStore.connect((await ready).url),
  Number(process.env["FUZZ_RUNS"] ?? 100),
);

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
function worker(env: NodeJS.ProcessEnv, args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/pg-worker.ts", import.meta.url)),
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

describe("PostgreSQL across processes and faults", () => {
  const material = SoftwareKeyProvider.generateMaterial();
  const keys = new SoftwareKeyProvider(material);
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 11, 0, 0));
  let store: PostgresStore;
  let verifier: Verifier;

  beforeAll(async () => {
    await ready;
    store = await PostgresStore.connect(pg.url);
    verifier = new Verifier({ store, keys, now: () => clock.now() });
  });
  afterAll(async () => {
    await store?.close();
    await pg?.dispose();
  });

  const enrollTotp = async () => {
    const secret = randomBytes(20);
    const id = `race-${randomBytes(6).toString("hex")}`;
    await verifier.enroll({ id, kind: "totp", secret });
    return { id, token: new SgpassToken({ kind: "totp", secret, clock }) };
  };
  const env = { CAPKIT_KEYS: JSON.stringify(material) };

  it("one round trip per verification of a cached credential: an accepted code, a wrong code, a replay", async () => {
    // Counted at the driver: every statement the store sends goes through pg.Client#query.
    let statements = 0;
    const query = pgDriver.Client.prototype.query;
    const counting = function (this: pgDriver.Client, ...args: unknown[]) {
      statements++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    };
    const { id, token } = await enrollTotp();
    const count = async (f: () => Promise<unknown>) => {
      statements = 0;
      pgDriver.Client.prototype.query = counting as typeof query;
      try {
        await f();
      } finally {
        pgDriver.Client.prototype.query = query;
      }
      return statements;
    };
    const first = token.press().code!;
    expect(await count(() => verifier.verify({ id, code: first }))).toBe(2); // not cached yet: read, then accept
    clock.advance(30_000);
    const second = token.press().code!;
    expect(
      await count(async () => expect((await verifier.verify({ id, code: second })).result).toBe("accepted")),
    ).toBe(1);
    expect(
      await count(async () => expect((await verifier.verify({ id, code: second })).result).toBe("rejected")),
    ).toBe(1); // a replay: no step after the used one matches, one conditional failure
    clock.advance(30_000);
    const wrong = token.press().code === "000000" ? "111111" : "000000";
    expect(
      await count(async () => expect((await verifier.verify({ id, code: wrong })).result).toBe("rejected")),
    ).toBe(1);
  });

  burstAcrossProcesses(
    "PostgreSQL",
    () => PostgresStore.connect(pg.url),
    () => pg.url,
  );

  it("4 processes × 8 concurrent verifications of one valid code: exactly one accepted, the others replays (not counted)", async () => {
    const { id, token } = await enrollTotp();
    const code = token.press().code!;
    const all = (
      await Promise.all(
        Array.from({ length: 4 }, () => worker(env, [pg.url, id, code, "8", String(clock.now())])),
      )
    ).flat();
    expect(all).toHaveLength(32);
    expect(all.filter((r) => r === "accepted")).toHaveLength(1);
    expect(all.filter((r) => r === "rejected")).toHaveLength(31);
    expect(await verifier.status(id)).toMatchObject({ failures: 0, locked: false });
  });

  it("4 processes × 25 wrong codes: the failure count is exactly 100 and the credential locked", async () => {
    const { id } = await enrollTotp();
    const all = (
      await Promise.all(
        Array.from({ length: 4 }, () => worker(env, [pg.url, id, "000000", "25", String(clock.now())])),
      )
    ).flat();
    expect(all).toHaveLength(100);
    expect(all.includes("accepted")).toBe(false);
    expect(await verifier.status(id)).toMatchObject({ failures: 100, locked: true });
  });

  it("PostgreSQL stopped mid-run: fails closed with STORE_UNAVAILABLE, nothing accepted, no counter lost; restart: works again", async () => {
    const { id, token } = await enrollTotp();
    expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted");
    const before = await verifier.status(id);
    clock.advance(30_000);
    const code = token.press().code!;
    await pg.stop();
    await expect(verifier.verify({ id, code })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      hint: expect.stringContaining("nothing was accepted"),
    });
    await pg.start();
    expect(await verifier.status(id)).toEqual(before);
    expect((await verifier.verify({ id, code })).result).toBe("accepted");
    expect((await verifier.status(id)).last).toBe(before.last + 1);
  });
});
