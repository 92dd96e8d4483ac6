import { fromHex } from "@capkit/core";
import { exportPskc, HmacKey, HotpGenerator, importPskc, matchTotp, Ocra } from "@capkit/oath";
import { describe, expect, it } from "vitest";
import { FakeClock, SgpassToken } from "../src/index.js";

const seed = fromHex("3132333435363738393031323334353637383930");

describe("SgpassToken", () => {
  it("button → TOTP, 6 digits, 30 s, shown until the step ends", () => {
    const clock = new FakeClock(1111111109_000);
    const t = new SgpassToken({ kind: "totp", secret: seed, digits: 8, clock });
    const s = t.press();
    expect(s.code).toBe("07081804"); // RFC 6238 App. B
    expect(s.validUntil).toBe(1111111110_000);
    clock.advance(1000);
    expect(t.screen.state).toBe("off");
    const d = new SgpassToken({ kind: "totp", secret: seed, clock });
    expect(d.press().code).toHaveLength(6);
  });

  it("button → HOTP counts up (RFC 4226 App. D)", () => {
    const t = new SgpassToken({ kind: "hotp", secret: seed, clock: new FakeClock() });
    expect([t.press().code, t.press().code, t.press().code]).toEqual(["755224", "287082", "359152"]);
    expect(t.counter).toBe(3);
  });

  it("PIN: asked first, and 5 wrong PINs lock the token for good", () => {
    const t = new SgpassToken({ kind: "hotp", secret: seed, pin: "2580", clock: new FakeClock() });
    expect(t.press().state).toBe("pin");
    for (let i = 1; i <= 4; i++) expect(t.enterPin("0000").text).toBe(`FAIL ${i}`);
    expect(t.enterPin("2580").code).toBe("755224");
    for (let i = 0; i < 5; i++) t.enterPin("1111");
    expect(t.locked).toBe(true);
    expect(t.enterPin("2580").state).toBe("locked");
    expect(t.press().text).toBe("LOCK");
  });

  it("keypad challenge/response and signature on OCRA", () => {
    const suite = "OCRA-1:HOTP-SHA1-6:QN08";
    const t = new SgpassToken({ kind: "totp", secret: seed, ocraSuite: suite, clock: new FakeClock() });
    expect(t.respond("00000000")).toBe("237653"); // RFC 6287 C.1
    expect(t.sign(["1234", "5678"])).toBe(new Ocra(suite, seed).response({ challenge: "12345678" }));
  });

  it("provisions from an otpauth URI and from PSKC", () => {
    const clock = new FakeClock(59_000);
    const t = SgpassToken.fromUri(
      "otpauth://totp/SG:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&period=30",
      { clock },
    );
    expect(t.press().code).toBe("94287082");
    const [key] = importPskc(
      exportPskc([
        {
          id: "1",
          type: "hotp",
          algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
          secret: seed,
          counter: 1,
          responseLength: 6,
        },
      ]),
    ).keys;
    expect(SgpassToken.fromPskc(key!, { clock }).press().code).toBe("287082");
  });

  it("its codes verify with the OATH matching helpers", () => {
    const clock = new FakeClock(1_700_000_000_000);
    const t = new SgpassToken({ kind: "totp", secret: seed, clock });
    const code = t.press().code!;
    expect(matchTotp(new HotpGenerator(new HmacKey(seed), 6), code, clock.now() / 1000)?.offset).toBe(0);
  });
});
