import { spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { toHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import { HmacKey, HotpGenerator, type OathAlgorithm, totpStep } from "../src/index.js";

/**
 * Cross-check against Debian's oathtool (installed by scripts/setup.sh, part of the test command). It is a
 * hard requirement: a missing oathtool fails this test, it never skips.
 */
function oathtool(args: string[]): string[] {
  const r = spawnSync("oathtool", args, { encoding: "utf8" });
  if (r.error) throw new Error(`oathtool is not installed (run sh scripts/setup.sh): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`oathtool ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

describe("agreement with oathtool on random seeds, counters and times", () => {
  it("at least 1,000 HOTP and TOTP (SHA-1/256/512) codes agree", () => {
    let compared = 0;
    for (let i = 0; i < 80; i++) {
      const seed = randomBytes(randomInt(16, 65));
      const digits = randomInt(6, 9);
      const counter = randomInt(0, 2 ** 31);
      const hotpCodes = oathtool([
        "--hotp",
        "-d",
        String(digits),
        "-c",
        String(counter),
        "-w",
        "9",
        toHex(seed),
      ]);
      const hotp = new HotpGenerator(new HmacKey(seed, "SHA1"), digits);
      expect(hotpCodes.length).toBe(10);
      hotpCodes.forEach((code, j) => {
        expect(hotp.code(counter + j), `HOTP seed ${toHex(seed)} counter ${counter + j}`).toBe(code);
        compared++;
      });
      for (const alg of ["SHA1", "SHA256", "SHA512"] as OathAlgorithm[]) {
        const time = randomInt(0, 2 ** 40);
        const step = [30, 60][randomInt(0, 2)]!;
        const codes = oathtool([
          `--totp=${alg}`,
          "-d",
          String(digits),
          "-s",
          `${step}s`,
          "-N",
          `@${time}`,
          "-w",
          "2",
          toHex(seed),
        ]);
        const gen = new HotpGenerator(new HmacKey(seed, alg), digits);
        const now = totpStep(time, { step });
        expect(codes.length).toBe(3);
        codes.forEach((code, j) => {
          expect(gen.code(now + j), `TOTP ${alg} seed ${toHex(seed)} time ${time}`).toBe(code);
          compared++;
        });
      }
    }
    expect(compared).toBeGreaterThanOrEqual(1000);
  });
});
