import { execFile, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HOSTILE_NAMES } from "@capkit/test-support/hostile-text";
import { Verifier } from "@capkit/verify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LAYOUT_TTL_MS } from "../src/keypad.js";
import { ABSOLUTE_MS, IDLE_MS } from "../src/sessions.js";
import { RATES } from "../src/web/throttle.js";
import { startBank } from "./browser.js";
import { type Answer, type HttpVisitor, stable, visitors } from "./http.js";

/**
 * The attacks of issue 19, one test per row of its table, over HTTP against the real server: each failed on the
 * example as it was (the row's "Today" column) and holds now.
 */
let bank: Awaited<ReturnType<typeof startBank>>;
let now: number;
const visitor = visitors(() => bank.url);

beforeEach(async () => {
  now = Date.now();
  bank = await startBank({ now: () => now });
});
afterEach(async () => {
  vi.restoreAllMocks();
  visitor.closeAll();
  await bank?.close();
});

/** Runs `n` calls of `f`, `width` at a time. */
async function parallel<T>(n: number, width: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await f(i);
    }),
  );
  return out;
}

/** A visitor with demo customers, logged in as the Coop@net one (card code). */
async function coopanetCustomer(o?: ConstructorParameters<typeof HttpVisitor>[1]) {
  const v = visitor(o);
  const demo = await v.demo();
  await v.get("/coopanet");
  const r = await v.post("/coopanet", { user: demo.coopanet, code: await v.cardCode() });
  expect(r.status).toBe(303);
  return { v, demo };
}

describe("issue 19, row by row", () => {
  it("10,000 cookieless GET /coopanet log no one out; a customer with the form open still logs in", async () => {
    const card = await coopanetCustomer();
    const token = visitor();
    const tokenDemo = await token.demo();
    await token.get("/sogenet");
    const r = await token.post("/sogenet", {
      user: tokenDemo.sogenetSgpass,
      ...token.keypad(await token.sgpassCode(now)),
    });
    expect(r.status).toBe(303);
    const pending = visitor();
    const pendingDemo = await pending.demo();
    await pending.get("/coopanet"); // the form is open
    const code = await pending.cardCode();

    const flood = visitor();
    const statuses = await parallel(10_000, 32, async () => {
      flood.cookies.clear();
      return (await flood.get("/coopanet")).status;
    });
    expect(statuses.every((s) => s === 200)).toBe(true);

    expect((await card.v.get("/coopanet/account")).status).toBe(200);
    expect((await token.get("/sogenet/account")).status).toBe(200);
    expect((await pending.post("/coopanet", { user: pendingDemo.coopanet, code })).status).toBe(303);
  });

  it("every login path does the same work and gives the same answer for a customer and an unknown id", async () => {
    const v = visitor();
    const demo = await v.demo();
    const work = () => {
      const verifier = [vi.spyOn(Verifier.prototype, "verify"), vi.spyOn(Verifier.prototype, "checkFactor")];
      const scrypt = vi.spyOn(bank.bank.passwords, "check");
      return () => {
        const w = {
          verifier: verifier.reduce((n, s) => n + s.mock.calls.length, 0),
          scrypt: scrypt.mock.calls.length,
        };
        vi.restoreAllMocks();
        return w;
      };
    };
    const attempt = async (path: string, fields: (id: string) => Record<string, string>, id: string) => {
      await v.get(path);
      const done = work();
      const r = await v.post(path, fields(id));
      return { status: r.status, page: stable(r.text).replaceAll(id, "ID"), work: done() };
    };
    const coopanet = (id: string) => ({ user: id, code: "1234 5678" });
    const sogenet = (id: string) => ({ user: id, ...v.keypad("123456") });
    const known = await attempt("/coopanet", coopanet, demo.coopanet);
    const unknown = await attempt("/coopanet", coopanet, "ZZZZ9999");
    expect(known.work).toEqual({ verifier: 1, scrypt: 0 });
    expect(unknown).toEqual(known);
    const password = await attempt("/sogenet", sogenet, demo.sogenetPassword);
    const sgpass = await attempt("/sogenet", sogenet, demo.sogenetSgpass);
    const stranger = await attempt("/sogenet", sogenet, "99999999");
    expect(password.work).toEqual({ verifier: 1, scrypt: 1 });
    expect(sgpass).toEqual(password);
    expect(stranger).toEqual(password);
  });

  it("after 5 wrong tries an unknown id answers exactly as a blocked customer, the 4th with a warning", async () => {
    const demo = await visitor().demo();
    // Each series from its own browser and address, so no throttle gets in the way of the lockout.
    let address = 10;
    const five = async (
      path: string,
      fields: (v: HttpVisitor, id: string) => Record<string, string>,
      id: string,
    ) => {
      const v = visitor({ localAddress: `127.0.0.${address++}` });
      const out: { status: number; page: string }[] = [];
      for (let i = 0; i < 6; i++) {
        await v.get(path);
        const r = await v.post(path, fields(v, id));
        out.push({ status: r.status, page: stable(r.text).replaceAll(id, "ID") });
      }
      return out;
    };
    const coopanet = (_: HttpVisitor, id: string) => ({ user: id, code: "1234 5678" });
    const sogenet = (v: HttpVisitor, id: string) => ({ user: id, ...v.keypad("123456") });
    for (const [path, fields, id, nobody] of [
      ["/coopanet", coopanet, demo.coopanet, "ZZZZ9999"],
      ["/sogenet", sogenet, demo.sogenetPassword, "99999999"],
      ["/sogenet", sogenet, demo.sogenetSgpass, "99999998"],
    ] as const) {
      const customer = await five(path, fields, id);
      expect(customer.map((a) => a.status)).toEqual([401, 401, 401, 401, 423, 423]);
      expect(customer[3]!.page).toContain("Attention : au prochain");
      expect(customer[2]!.page).not.toContain("Attention : au prochain");
      expect(await five(path, fields, nobody)).toEqual(customer);
    }
  });

  it("throttles by source: 13,000 tries from one address and token, and a spray over many ids, get 429", async () => {
    // One address, one form token, as fast as the loopback goes (the bank's clock stands still: no refill).
    const v = visitor({ localAddress: "127.0.0.2" });
    await v.get("/coopanet");
    const body = new URLSearchParams({ _csrf: v.csrf, user: "ABCDEFGH", code: "1234 5678" }).toString();
    let through = 0;
    let refused: Answer | undefined;
    await parallel(13_000, 32, async () => {
      const a = await v.send("POST", "/coopanet", body);
      if (a.status !== 429) through++;
      else refused ??= a;
    });
    expect(through).toBe(RATES.attemptsPerToken.burst);
    expect(Number(refused!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused!.text).toContain("Trop de tentatives");

    // One password over 100 identifiants, each with a fresh token: the address's limit stops it.
    const sprayer = visitor({ localAddress: "127.0.0.3" });
    let passed = 0;
    for (let i = 0; i < 100; i++) {
      sprayer.cookies.clear();
      await sprayer.get("/sogenet");
      const r = await sprayer.post("/sogenet", { user: String(20_000_000 + i), ...sprayer.keypad("123456") });
      if (r.status !== 429) passed++;
    }
    expect(passed).toBe(RATES.attemptsPerAddress.burst);
  });

  it("serves a browser's devices to that browser only, and to no foreign Host (DNS rebinding)", async () => {
    const mine = visitor();
    await mine.demo();
    const card = JSON.parse((await mine.get("/devices/card.json")).text) as { pan: string; imk: string };
    const stranger = visitor();
    expect((await stranger.get("/devices/card.json")).status).toBe(401);
    expect((await stranger.get("/devices/sgpass.json")).status).toBe(401);
    await stranger.demo();
    const theirs = JSON.parse((await stranger.get("/devices/card.json")).text) as {
      pan: string;
      imk: string;
    };
    expect(theirs.pan).not.toBe(card.pan);
    expect(theirs.imk).not.toBe(card.imk);
    // A rebinding page reaches 127.0.0.1 with its own name in Host: nothing, not even with the cookies.
    const port = new URL(bank.url).port;
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, "127.0.0.1"]) {
      mine.host = host;
      for (const path of ["/devices/card.json", "/devices/sgpass.json", "/coopanet"]) {
        expect([host, path, (await mine.get(path)).status]).toEqual([host, path, 421]);
      }
    }
    mine.host = `localhost:${port}`;
    expect((await mine.get("/devices/card.json")).status).toBe(200);
    // A card blocked in this browser stays blocked for this customer.
    await mine.post("/devices/card/blocked", {});
    expect(JSON.parse((await mine.get("/devices/card.json")).text)).toMatchObject({ pinTries: 0 });
  });

  it("a password change in one session ends the customer's other sessions; so do a reset and an unlock", async () => {
    const s1 = visitor();
    const demo = await s1.demo();
    const s2 = visitor();
    const login = async (v: HttpVisitor, password: string) => {
      await v.get("/sogenet");
      return v.post("/sogenet", { user: demo.sogenetPassword, ...v.keypad(password) });
    };
    expect((await login(s1, "112233")).status).toBe(303);
    expect((await login(s2, "112233")).status).toBe(303);
    expect((await s2.get("/sogenet/password")).status).toBe(200);
    await s1.get("/sogenet/password");
    const changed = await s1.post("/sogenet/password", {
      current: "112233",
      next: "246813",
      confirm: "246813",
    });
    expect(changed.headers["location"]).toBe("/sogenet/account?done=password");
    expect((await s1.get("/sogenet/account")).status).toBe(200);
    expect((await s2.get("/sogenet/account")).status).toBe(401);
    expect((await s2.get("/sogenet/password")).status).toBe(401);

    // The adviser's reset and unlock end them too (another process, the same database). Run without blocking
    // this process: its keep-alive sockets must see the server close them while the command runs.
    expect((await login(s2, "246813")).status).toBe(303);
    const adviser = (command: string) =>
      promisify(execFile)(
        "pnpm",
        ["--filter", "bank-login", command, "--data", bank.dataDir, demo.sogenetPassword],
        { cwd: fileURLToPath(new URL("../../..", import.meta.url)), encoding: "utf8" },
      );
    const reset = await adviser("reset-password");
    expect(reset.stdout).toMatch(/provisional password \d{6}.*2 session\(s\) ended/);
    expect((await s1.get("/sogenet/account")).status).toBe(401);
    const provisional = /provisional password (\d{6})/.exec(reset.stdout)![1]!;
    expect((await login(s1, provisional)).headers["location"]).toBe("/sogenet/password");
    expect((await s1.get("/sogenet/password")).text).toContain(
      "Votre mot de passe a été modifié par l&#39;administrateur du serveur de votre banque.",
    );
    expect((await adviser("unlock")).stdout).toContain("1 session(s) ended");
    expect((await s1.get("/sogenet/password")).status).toBe(401);
  });

  it("10 parallel posts of one valid code: one login, the replays refused and not counted", async () => {
    const v = visitor();
    const demo = await v.demo();
    const code = await v.cardCode();
    const tabs = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const t = visitor();
        for (const [k, val] of v.cookies) t.cookies.set(k, val);
        await t.get("/coopanet");
        return t;
      }),
    );
    const answers = await Promise.all(tabs.map((t) => t.post("/coopanet", { user: demo.coopanet, code })));
    expect(answers.map((a) => a.status).sort()).toEqual([303, ...Array<number>(9).fill(401)]);
    // No failure was counted: four wrong codes now still leave a try, and a fresh code logs in (from a new
    // tab: the double submit spent its tab's throttling budget).
    v.cookies.delete("bank_anon");
    for (let i = 1; i <= 4; i++) {
      await v.get("/coopanet");
      const r = await v.post("/coopanet", { user: demo.coopanet, code: "0000 0000" });
      expect([i, r.status, r.text.includes("Attention : au prochain")]).toEqual([i, 401, i === 4]);
    }
    await v.get("/coopanet");
    expect((await v.post("/coopanet", { user: demo.coopanet, code: await v.cardCode() })).status).toBe(303);
  });

  it("the keypad posts cells; a layout is good once, for a while, and only the server's", async () => {
    const v = visitor();
    const demo = await v.demo();
    await v.get("/sogenet");
    const fields = { user: demo.sogenetPassword, ...v.keypad("112233") };
    // Digits in place of cells spell nothing (the accessible mode's field is not read here).
    const digits = await v.post("/sogenet", {
      user: demo.sogenetPassword,
      layout: v.layout,
      password: "112233",
    });
    expect(digits.status).toBe(400);
    // That post spent the layout: the right cells on it are refused now, before anything is counted.
    const again = await v.post("/sogenet", fields);
    expect(again.status).toBe(400);
    expect(again.text).toContain("Le clavier a expiré");
    await v.get("/sogenet");
    // One character changed in the middle (the last ones carry padding bits a decoder may ignore).
    const flip = v.layout[30] === "A" ? "B" : "A";
    const forged = { ...v.keypad("112233"), layout: `${v.layout.slice(0, 30)}${flip}${v.layout.slice(31)}` };
    expect((await v.post("/sogenet", { user: demo.sogenetPassword, ...forged })).status).toBe(400);
    await v.get("/sogenet");
    const late = { user: demo.sogenetPassword, ...v.keypad("112233") };
    now += LAYOUT_TTL_MS + 1;
    expect((await v.post("/sogenet", late)).status).toBe(400);
    await v.get("/sogenet");
    expect((await v.post("/sogenet", { user: demo.sogenetPassword, ...v.keypad("112233") })).status).toBe(
      303,
    );
  });

  it("a session ends after 5 idle minutes (PSD2 RTS Art. 4(3)(d)) and 30 minutes after login however active", async () => {
    const { v } = await coopanetCustomer();
    now += IDLE_MS - 1000;
    expect((await v.get("/coopanet/account")).status).toBe(200);
    // What a page fetches by itself (its assets, the devices' state) keeps no session alive.
    now += IDLE_MS / 2;
    expect((await v.get("/assets/bank.css")).status).toBe(200);
    expect((await v.get("/devices/card.json")).status).toBe(200);
    now += IDLE_MS / 2 + 1;
    const idle = await v.get("/coopanet/account");
    expect(idle.status).toBe(401);
    expect(idle.text).toContain("Vous n&#39;êtes pas connecté, ou votre session a expiré");

    const active = (await coopanetCustomer()).v;
    await active.get("/coopanet/account"); // the session's own form token, for « Rester connecté »
    const start = now;
    while (now - start < ABSOLUTE_MS - 4 * 60_000) {
      now += 4 * 60_000;
      expect((await active.post("/session/keepalive", {})).status).toBe(204);
    }
    now = start + ABSOLUTE_MS;
    expect((await active.get("/coopanet/account")).status).toBe(401);
  });
});

describe("payees' names a screen would not show as they are (@capkit/provision's display-safe text)", () => {
  /** The page's alert, entities decoded. */
  const alertOf = (a: Answer) =>
    /class="error" role="alert">(?:<p>)?([^<]*)</
      .exec(a.text)?.[1]
      ?.replaceAll("&#39;", "'")
      .replaceAll("&quot;", '"')
      .replaceAll("&amp;", "&");
  /** The form mends only spaces typed around the name or twice: those names are not refused there. */
  const mended = (name: string) => /^ [^ ]|[^ ] $| {2}/.test(name);

  it("the transfer form refuses each hostile name in French, on the form, and makes no operation", async () => {
    const { v } = await coopanetCustomer();
    await v.get("/coopanet/transfer");
    const post = (name: string) =>
      v.post("/coopanet/transfer", { iban: "FR76 3000 6000 0112 3456 7890 189", name, amount: "150,00" });
    for (const [what, name, , created] of HOSTILE_NAMES) {
      // A form posts UTF-8: a lone surrogate arrives as U+FFFD, which a screen shows as it is.
      if (created !== "refused" || mended(name) || /\p{Cs}/u.test(name)) continue;
      const r = await post(name);
      expect([what, r.status]).toEqual([what, 400]);
      expect(alertOf(r), what).toMatch(
        /^Le nom du bénéficiaire (comporte de 1 à 70 caractères\.|contient un caractère invisible ou qui ne s'affiche pas tel quel \(U\+[0-9A-F]{4,6}\) : retapez-le\.|contient un accent isolé ou des accents superposés : retapez-le\.)$/,
      );
      if (what.startsWith("Trojan Source"))
        expect(alertOf(r)).toBe(
          "Le nom du bénéficiaire contient un caractère invisible ou qui ne s'affiche pas tel quel (U+202E) : retapez-le.",
        );
      // Nothing was made: the transfer form again, not a code to sign.
      expect((await v.get("/coopanet/transfer")).text).not.toContain('name="code"');
    }
    // What the form mends or NFC makes safe is a transfer, showing the name as it is signed (NFC).
    const r = await post("  Caf\u0065\u0301   Martin ");
    expect(r.status).toBe(303);
    const page = (await v.get("/coopanet/transfer")).text;
    expect(page).toContain('name="code"');
    expect(page).toContain("Caf\u00e9 Martin");
    expect(page).not.toContain("Cafe\u0301");
  });
});

describe("issue 19, the rough edges", () => {
  it("every file of the bank is 0600, its directory 0700", async () => {
    const v = visitor();
    await v.demo();
    await v.get("/coopanet");
    const files = readdirSync(bank.dataDir);
    expect(files).toEqual(
      expect.arrayContaining(["bank.db", "verify.db", "keys.json", "web.key", "bank.db-wal"]),
    );
    for (const f of files) expect([f, statSync(join(bank.dataDir, f)).mode & 0o777]).toEqual([f, 0o600]);
    expect(statSync(bank.dataDir).mode & 0o777).toBe(0o700);
  });

  it("the adviser's command opens the server's bank, says which, and never makes an empty one", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync("pnpm", ["--filter", "bank-login", "unlock", ...args], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, ...env },
      });
    const missing = run(["--data", join(bank.dataDir, "nope"), "ABCDEFGH"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`no bank in ${join(bank.dataDir, "nope")}`);
    expect(readdirSync(bank.dataDir)).not.toContain("nope");
    const viaEnv = run(["ABCDEFGH"], { BANK_DATA: bank.dataDir });
    expect(viaEnv.stdout).toContain(`unlock: data directory ${bank.dataDir}`);
    expect(viaEnv.stderr).toContain("no customer ABCDEFGH");
  });

  it("no address the bank shows answers 404; a page of the other bank is refused with a message", async () => {
    const { v } = await coopanetCustomer();
    const seen = new Set<string>();
    const queue = [
      "/",
      "/coopanet",
      "/sogenet",
      "/coopanet/account",
      "/coopanet/transfer",
      "/sogenet?accessible=1",
    ];
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const r = await v.get(path);
      expect([path, r.status]).not.toEqual([path, 404]);
      for (const m of r.text.matchAll(/(?:href|action|src|card-src|token-src)="(\/[^"]*)"/g)) {
        const url = m[1]!.replaceAll("&amp;", "&");
        if (url !== "/logout") queue.push(url);
      }
    }
    expect(seen.size).toBeGreaterThan(10);
    const other = await v.get("/sogenet/account");
    expect(other.status).toBe(403);
    expect(other.text).toContain("Cette page est celle de SOGENET : vous êtes connecté à Coop@net.");
    expect((await v.get("/sogenet/password")).status).toBe(403);
  });

  it("makes demo customers for a browser at a bounded rate, per address and in all", async () => {
    const one = visitor({ localAddress: "127.0.1.1" });
    const made: number[] = [];
    for (let i = 0; i < 5; i++) {
      one.cookies.clear();
      await one.get("/coopanet");
      made.push((await one.post("/demo", { back: "/coopanet" })).status);
    }
    expect(made).toEqual([303, 303, 303, 429, 429]);
    // From many addresses: the overall bucket stops them (3 made above, 27 more, then none).
    const statuses = await parallel(40, 8, async (i) => {
      const v = visitor({ localAddress: `127.0.2.${i + 1}` });
      await v.get("/coopanet");
      return (await v.post("/demo", { back: "/coopanet" })).status;
    });
    expect(statuses.filter((s) => s === 303)).toHaveLength(RATES.demoOverall.burst - 3);
  });

  it("warns when bound beyond loopback", async () => {
    const wide = await startBank({ host: "0.0.0.0" });
    try {
      expect(wide.warnings.join()).toContain("beyond loopback");
    } finally {
      await wide.close();
    }
    expect(bank.warnings).toEqual([]);
  });
});
