import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportPskc, pskcKeyOf } from "@capkit/oath";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

/**
 * PSKC and otpauth through the CLI have one meaning, @capkit/oath's token parameters (issue 21): `otp export`
 * writes the hash and OCRA suites, `verify enroll --pskc` enrols what the file says — every key or none.
 * Codes come from outside the code under test: oathtool (TOTP-SHA-256), the RFCs' vectors.
 */
const tmp = () => mkdtempSync(join(tmpdir(), "capkit-pskc-"));
const SEED32_HEX = Buffer.from("12345678901234567890123456789012").toString("hex");
const SEED20 = new TextEncoder().encode("12345678901234567890");

/** Debian's oathtool: the current TOTP-SHA-256 code, 8 digits (an independent program). */
function oathtoolTotp256(hex: string): string {
  const r = spawnSync("oathtool", ["--totp=SHA256", "-d", "8", hex], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`oathtool failed (run sh scripts/setup.sh): ${r.stderr}`);
  return r.stdout.trim();
}

describe("otp export writes what the token is", () => {
  it("--algorithm SHA256: <Suite>SHA256</Suite>, and verify enroll --pskc enrols it as SHA-256", () => {
    const dir = tmp();
    const file = join(dir, "t.pskc");
    const db = join(dir, "s.db");
    const w = capkit([
      "--json",
      "otp",
      "export",
      "--secret-hex",
      SEED32_HEX,
      "--algorithm",
      "SHA256",
      "--digits",
      "8",
      "--serial",
      "77",
      "--out",
      file,
    ]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.json()).toMatchObject({ kind: "totp", algorithm: "SHA256" });
    expect(readFileSync(file, "utf8")).toContain("<pskc:Suite>SHA256</pskc:Suite>");
    const e = capkit(["--json", "verify", "enroll", "--db", db, "--pskc", file]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.json()).toEqual({ enrolled: "77", kind: "totp", serial: "77" });
    // A SHA-1 enrolment would reject oathtool's SHA-256 code.
    const code = oathtoolTotp256(SEED32_HEX);
    expect(capkit(["verify", "check", "--db", db, "--id", "77", "--code", code]).stdout.trim()).toBe(
      "accepted",
    );
  });

  it("--ocra SUITE writes an OCRA key, enrolled as OCRA with its suite", () => {
    const dir = tmp();
    const file = join(dir, "o.pskc");
    const db = join(dir, "s.db");
    const suite = "OCRA-1:HOTP-SHA256-8:QN08";
    expect(capkit(["otp", "export", "--secret-hex", SEED32_HEX, "--ocra", suite, "--out", file]).status).toBe(
      0,
    );
    const xml = readFileSync(file, "utf8");
    expect(xml).toContain('Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:ocra"');
    expect(xml).toContain(`<pskc:Suite>${suite}</pskc:Suite>`);
    const shown = capkit(["--json", "otp", "import", file]).json();
    expect(shown.keys[0].token).toMatchObject({ kind: "ocra", suite, algorithm: "SHA256", digits: 8 });
    expect(capkit(["verify", "enroll", "--db", db, "--id", "o", "--pskc", file]).status).toBe(0);
    const c = capkit(["--json", "verify", "challenge", "--db", db, "--id", "o", "--function", "ocra"]).json();
    const response = capkit([
      "otp",
      "generate",
      "--secret-hex",
      SEED32_HEX,
      "--ocra",
      suite,
      "--challenge",
      c.challenge,
    ]);
    const r = capkit([
      "verify",
      "check",
      "--db",
      db,
      "--id",
      "o",
      "--function",
      "ocra",
      "--challenge-id",
      c.challengeId,
      "--code",
      response.stdout.trim(),
    ]);
    expect(r.stdout.trim(), r.stderr).toBe("accepted");
    expect(
      capkit([
        "otp",
        "export",
        "--secret-hex",
        SEED32_HEX,
        "--ocra",
        suite,
        "--digits",
        "6",
        "--out",
        join(dir, "x"),
      ]).status,
    ).toBe(2);
  });
});

describe("verify enroll --pskc: every key of the file, or none", () => {
  const twoKeys = (second: Record<string, unknown> = {}) =>
    exportPskc([
      pskcKeyOf(
        { kind: "hotp", secret: SEED20, algorithm: "SHA1", digits: 6, counter: 5, serial: "SN1" },
        "a",
      ),
      {
        ...pskcKeyOf(
          { kind: "totp", secret: SEED20, algorithm: "SHA1", digits: 6, step: 30, serial: "SN2" },
          "b",
        ),
        ...second,
      },
    ]);
  const listed = (db: string) =>
    capkit(["--json", "verify", "list", "--db", db])
      .json()
      .credentials.map((c: { id: string }) => c.id);

  it("a two-key file enrols both, each under its serial", () => {
    const dir = tmp();
    const file = join(dir, "two.pskc");
    const db = join(dir, "s.db");
    writeFileSync(file, twoKeys());
    const e = capkit(["--json", "verify", "enroll", "--db", db, "--pskc", file]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.json()).toEqual({
      enrolled: ["SN1", "SN2"],
      credentials: [
        { id: "SN1", kind: "hotp", serial: "SN1" },
        { id: "SN2", kind: "totp", serial: "SN2" },
      ],
    });
    expect(listed(db)).toEqual(["SN1", "SN2"]);
    // RFC 4226 Appendix D, counter 5: the file's counter was kept.
    expect(capkit(["verify", "check", "--db", db, "--id", "SN1", "--code", "254676"]).stdout.trim()).toBe(
      "accepted",
    );
  });

  it("a file with one bad key enrols nothing and names the key and why", () => {
    const dir = tmp();
    const db = join(dir, "s.db");
    const bad = join(dir, "bad.pskc");
    writeFileSync(bad, twoKeys({ algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:pin", type: "other" }));
    const r = capkit(["verify", "enroll", "--db", db, "--pskc", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'key 2 (Id "b", serial SN2): its algorithm urn:ietf:params:xml:ns:keyprov:pskc:pin is not HOTP, TOTP or OCRA',
    );
    expect(listed(db)).toEqual([]);
  });

  it("a key the verifier refuses midway: the keys already enrolled are revoked, the ids free again", () => {
    const dir = tmp();
    const db = join(dir, "s.db");
    const file = join(dir, "pin.pskc");
    const suite = "OCRA-1:HOTP-SHA1-6:QN08-PSHA1"; // the verifier does not take PIN suites
    writeFileSync(
      file,
      exportPskc([
        pskcKeyOf(
          { kind: "hotp", secret: SEED20, algorithm: "SHA1", digits: 6, counter: 0, serial: "SN1" },
          "a",
        ),
        pskcKeyOf({ kind: "ocra", secret: SEED20, algorithm: "SHA1", digits: 6, suite, serial: "SN2" }, "b"),
      ]),
    );
    const r = capkit(["verify", "enroll", "--db", db, "--pskc", file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/key 2 \(serial SN2\): OCRA suites with a PIN .*; nothing was enrolled/);
    expect(listed(db)).toEqual([]);
    writeFileSync(file, twoKeys());
    expect(capkit(["verify", "enroll", "--db", db, "--pskc", file]).status).toBe(0);
    expect(listed(db)).toEqual(["SN1", "SN2"]);
  });

  it("a taken id refuses the whole file before anything is enrolled; --id is for one key", () => {
    const dir = tmp();
    const db = join(dir, "s.db");
    const file = join(dir, "two.pskc");
    writeFileSync(file, twoKeys());
    const uri = "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect(capkit(["verify", "enroll", "--db", db, "--id", "SN2", "--uri", uri]).status).toBe(0);
    const r = capkit(["verify", "enroll", "--db", db, "--pskc", file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("key 2 (serial SN2): SN2 is already enrolled; nothing was enrolled");
    expect(listed(db)).toEqual(["SN2"]);
    const one = capkit(["verify", "enroll", "--db", db, "--id", "x", "--pskc", file]);
    expect(one.status).toBe(2);
    expect(one.stderr).toContain("--id names one credential: this file holds 2 keys");
    expect(
      capkit(["verify", "enroll", "--db", db, "--ocra", "OCRA-1:HOTP-SHA1-6:QN08", "--pskc", file]).status,
    ).toBe(2);
  });
});

describe("privacyIDEA's export (hand-written from its source, packages/oath/test/fixtures)", () => {
  const PI = JSON.parse(
    readFileSync(new URL("../../oath/test/fixtures/privacyidea-export.json", import.meta.url), "utf8"),
  );

  it("enrols every token under its serial, with its hash, and says the file is not conformant", () => {
    const dir = tmp();
    const file = join(dir, "pi.xml");
    const db = join(dir, "s.db");
    writeFileSync(file, PI.current);
    const e = capkit([
      "--json",
      "verify",
      "enroll",
      "--db",
      db,
      "--pskc",
      file,
      "--psk-hex",
      PI.preSharedKeyHex,
    ]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.json().warnings[0]).toContain("not a conformant RFC 6030 file");
    expect(e.json().credentials).toEqual([
      { id: "TOTP0001A2B3", kind: "totp", serial: "TOTP0001A2B3" },
      { id: "OATH0001C3D4", kind: "hotp", serial: "OATH0001C3D4" },
    ]);
    // RFC 4226 Appendix D at privacyIDEA's counter 5; oathtool's SHA-256 code for the TOTP token.
    expect(
      capkit(["verify", "check", "--db", db, "--id", "OATH0001C3D4", "--code", "254676"]).stdout.trim(),
    ).toBe("accepted");
    const code = oathtoolTotp256(SEED32_HEX);
    expect(
      capkit(["verify", "check", "--db", db, "--id", "TOTP0001A2B3", "--code", code]).stdout.trim(),
    ).toBe("accepted");
  });
});
