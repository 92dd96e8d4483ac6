import { describe, expect, it } from "vitest";
import { chooseReader, type ReaderInfo } from "../src/index.js";

const reader = (name: string, cardPresent: boolean): ReaderInfo => ({
  name,
  cardPresent,
  exclusive: false,
  mute: false,
});
const GEMALTO = reader("Gemalto PC Twin Reader (70D7E2EE) 00 00", true);
const OMNIKEY = reader("HID Global OMNIKEY 3x21 Smart Card Reader [OMNIKEY 3x21] 01 00", true);
const YUBIKEY = reader("Yubico YubiKey OTP+FIDO+CCID 00 00", false);

describe("chooseReader: which reader a command talks to", () => {
  it("without a name: the one reader holding a card, none when no card is in", () => {
    expect(chooseReader([YUBIKEY, GEMALTO])).toBe(GEMALTO);
    expect(chooseReader([YUBIKEY])).toBeUndefined();
  });

  it("without a name, two cards in two readers is an error naming both, never the first", () => {
    let e: unknown;
    try {
      chooseReader([GEMALTO, YUBIKEY, OMNIKEY]);
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ code: "READER_AMBIGUOUS", details: { readers: [GEMALTO.name, OMNIKEY.name] } });
    expect((e as { hint: string }).hint).toContain("--reader");
    expect((e as { hint: string }).hint).toContain(GEMALTO.name);
    expect((e as { hint: string }).hint).toContain(OMNIKEY.name);
  });

  it("a name: the exact one first, else a unique part of a name, in any case", () => {
    expect(chooseReader([GEMALTO, OMNIKEY], OMNIKEY.name)).toBe(OMNIKEY);
    expect(chooseReader([GEMALTO, OMNIKEY, YUBIKEY], "gemalto")).toBe(GEMALTO);
    expect(chooseReader([GEMALTO, OMNIKEY, YUBIKEY], "YubiKey")).toBe(YUBIKEY);
  });

  it("a name that fits several readers, or none, is refused with the names", () => {
    expect(() => chooseReader([GEMALTO, YUBIKEY], "00 00")).toThrow(
      expect.objectContaining({
        code: "READER_AMBIGUOUS",
        details: { readers: [GEMALTO.name, YUBIKEY.name] },
      }),
    );
    expect(() => chooseReader([GEMALTO], "Cherry")).toThrow(
      expect.objectContaining({ code: "NO_READER", hint: expect.stringContaining(GEMALTO.name) }),
    );
  });

  it("no reader at all is NO_READER", () => {
    expect(() => chooseReader([])).toThrow(expect.objectContaining({ code: "NO_READER" }));
  });
});
