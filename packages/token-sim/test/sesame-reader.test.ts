import { CapCodeModel, type CardConnection, testIccMasterKey } from "@capkit/emv-cap";
import { describe, expect, it } from "vitest";
import {
  FakeClock,
  newSimCardState,
  type ReaderKey,
  type Screen,
  SesameReader,
  SimulatedCard,
} from "../src/index.js";

function setup(pin = "1234", tries?: number, profile = "sesame") {
  const clock = new FakeClock();
  const state = newSimCardState(profile, pin);
  const card = new SimulatedCard(tries === undefined ? state : { ...state, pinTries: tries });
  const reader = new SesameReader({ clock });
  const screens: Screen[] = [];
  reader.onScreen((s) => screens.push(s));
  const keys = (...ks: ReaderKey[]) => {
    for (const k of ks) reader.press(k);
  };
  return { clock, card, reader, screens, keys };
}

const lines = (r: SesameReader) => r.screen.lines.join(" | ");

describe("SesameReader, screen by screen", () => {
  it("Code: insert card, menu with Code first, PIN masked, code shown as 1234 5678, off after 35 s", async () => {
    const { clock, card, reader, keys } = setup();
    expect(reader.screen.state).toBe("off");
    keys("OK");
    expect(lines(reader)).toBe("INSERER CARTE | ");
    reader.insertCard(card);
    expect(lines(reader)).toBe("FONCTION ? | > CODE");
    keys("OK");
    expect(lines(reader)).toBe("PIN ? | ");
    keys("1", "2");
    expect(lines(reader)).toBe("PIN ? | **");
    keys("OK"); // fewer than 4 digits: nothing happens
    expect(reader.screen.state).toBe("pin");
    keys("3", "4", "5"); // a fifth digit is ignored
    expect(lines(reader)).toBe("PIN ? | ****");
    keys("OK");
    expect(lines(reader)).toBe("PATIENTEZ | ");
    await reader.settled();
    expect(reader.screen.state).toBe("code");
    expect(reader.screen.lines[1]).toMatch(/^\d{4} \d{4}$/);
    const record = card.issuerRecord();
    const expected = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" })(
      card.state.atc,
    );
    expect(reader.screen.code).toBe(String(expected).padStart(8, "0"));
    clock.advance(34_999);
    expect(reader.screen.state).toBe("code");
    clock.advance(1);
    expect(reader.screen.state).toBe("off");
  });

  it("C corrects a digit, and on an empty PIN goes back to the menu", () => {
    const { card, reader, keys } = setup();
    reader.insertCard(card);
    keys("OK", "1", "2", "C");
    expect(lines(reader)).toBe("PIN ? | *");
    keys("C", "C");
    expect(lines(reader)).toBe("FONCTION ? | > CODE");
  });

  it("the function key walks the menu: Reponse asks for a challenge first", async () => {
    const { card, reader, keys } = setup();
    reader.insertCard(card);
    keys("FN");
    expect(lines(reader)).toBe("FONCTION ? | > REPONSE");
    keys("OK");
    expect(lines(reader)).toBe("DEFI ? | ");
    keys("1", "2", "3", "4", "5", "6", "7", "8", "9");
    expect(lines(reader)).toBe("DEFI ? | 12345678");
    keys("OK", "1", "2", "3", "4", "OK");
    await reader.settled();
    const record = card.issuerRecord();
    const expected = new CapCodeModel(record, testIccMasterKey(record)).forInputs({
      mode: "respond",
      challenge: "12345678",
    })(card.state.atc);
    expect(reader.screen.code).toBe(String(expected).padStart(8, "0"));
  });

  it("Code+Donnees takes numbers until an empty OK", async () => {
    const { card, reader, keys } = setup();
    reader.insertCard(card);
    keys("FN", "FN", "FN");
    expect(lines(reader)).toBe("FONCTION ? | > CODE+DONNEES");
    keys("OK", "1", "2", "3", "4", "OK");
    expect(lines(reader)).toBe("DONNEE 2 ? | ");
    keys("9", "9", "OK", "OK");
    expect(reader.screen.state).toBe("pin");
    keys("1", "2", "3", "4", "OK");
    await reader.settled();
    const record = card.issuerRecord();
    const expected = new CapCodeModel(record, testIccMasterKey(record)).forInputs({
      mode: "identify",
      tds: ["1234", "99"],
    })(card.state.atc);
    expect(reader.screen.code).toBe(String(expected).padStart(8, "0"));
  });

  it("wrong PIN: PIN FAUX with tries left, OK to try again", async () => {
    const { card, reader, keys } = setup("1234");
    reader.insertCard(card);
    keys("OK", "9", "9", "9", "9", "OK");
    await reader.settled();
    expect(lines(reader)).toBe("PIN FAUX | ESSAIS: 2");
    keys("OK");
    expect(reader.screen.state).toBe("pin");
    keys("1", "2", "3", "4", "OK");
    await reader.settled();
    expect(reader.screen.state).toBe("code");
    expect(card.state.pinTries).toBe(3);
  });

  it("one try left: the reader asks before spending it; C refuses and nothing is spent", async () => {
    const { card, reader, keys } = setup("1234", 1);
    reader.insertCard(card);
    keys("OK", "9", "9", "9", "9", "OK");
    await new Promise((r) => setImmediate(r));
    expect(lines(reader)).toBe("DERNIER ESSAI | OK:OUI  C:NON");
    keys("C");
    await reader.settled();
    // The customer reads words, never an error code.
    expect(lines(reader)).toBe("OPERATION | ANNULEE");
    expect(card.state.pinTries).toBe(1);
  });

  it("one try left, confirmed with OK, wrong PIN: CARTE BLOQUEE", async () => {
    const { card, reader, keys } = setup("1234", 1);
    reader.insertCard(card);
    keys("OK", "9", "9", "9", "9", "OK");
    await new Promise((r) => setImmediate(r));
    keys("OK");
    await reader.settled();
    expect(lines(reader)).toBe("CARTE BLOQUEE | ");
    expect(card.state.pinTries).toBe(0);
  });

  it("a blocked card says so before asking anything of the card", async () => {
    const { card, reader, keys } = setup("1234", 0);
    reader.insertCard(card);
    keys("OK", "1", "2", "3", "4", "OK");
    await reader.settled();
    expect(reader.screen.state).toBe("blocked");
  });

  it("a blocked card shows CARTE BLOQUEE as soon as the reader has read it, before any PIN is asked", async () => {
    const { card, reader, keys, screens } = setup("1234", 0);
    reader.insertCard(card);
    await reader.settled();
    expect(lines(reader)).toBe("CARTE BLOQUEE | ");
    keys("OK", "OK");
    expect(reader.screen.state).toBe("blocked");
    expect(screens.some((s) => s.state === "pin")).toBe(false);
    expect(card.state.pinTries).toBe(0);
  });

  it("a card that cannot sign (IAF 00 in its FCI) is refused before the challenge and amount are asked", async () => {
    const { card, reader, keys, screens } = setup();
    const atc = card.state.atc;
    reader.insertCard(card);
    await reader.settled();
    keys("FN", "FN");
    expect(lines(reader)).toBe("FONCTION ? | > SIGNATURE");
    keys("OK");
    expect(lines(reader)).toBe("FONCTION NON | DISPONIBLE");
    expect(screens.some((s) => s.state === "challenge" || s.state === "amount")).toBe(false);
    keys("OK");
    expect(reader.screen.state).toBe("menu");
    expect(card.state.atc).toBe(atc); // the insertion check spent no ATC
  });

  it("a card that signs (IAF A0) is asked for the challenge and the amount", async () => {
    const { card, reader, keys } = setup("1234", undefined, "uk");
    reader.insertCard(card);
    await reader.settled();
    keys("FN", "FN", "OK");
    expect(lines(reader)).toBe("DEFI ? | ");
    keys("1", "2", "OK");
    expect(lines(reader)).toBe("MONTANT ? | ");
  });

  it("a card error shows words, not an error code", async () => {
    const { card, reader, keys } = setup();
    const broken: CardConnection = {
      atr: card.atr,
      transmit: async (c) => (c[1] === 0xae ? Uint8Array.of(0x6f, 0x00) : card.transmit(c)),
      close: () => card.close(),
    };
    reader.insertCard(broken);
    keys("OK", "1", "2", "3", "4", "OK");
    await reader.settled();
    expect(reader.screen.state).toBe("error");
    expect(lines(reader)).toBe("ERREUR CARTE | REESSAYER");
  });

  it("inactivity while typing the PIN turns the display off", () => {
    const { clock, card, reader, keys } = setup();
    reader.insertCard(card);
    keys("OK", "1");
    clock.advance(29_000);
    keys("2"); // a key restarts the countdown
    clock.advance(29_000);
    expect(reader.screen.state).toBe("pin");
    clock.advance(1_000);
    expect(reader.screen.state).toBe("off");
  });

  it("card pulled mid-PIN: the session ends, the display goes off, the PIN is forgotten", () => {
    const { card, reader, keys } = setup();
    reader.insertCard(card);
    keys("OK", "1", "2");
    reader.removeCard();
    expect(reader.screen.state).toBe("off");
    keys("OK");
    expect(lines(reader)).toBe("INSERER CARTE | ");
    reader.insertCard(card);
    keys("OK");
    expect(lines(reader)).toBe("PIN ? | ");
  });

  it("card pulled mid-GENERATE AC: no code, no crash, display off", async () => {
    const { card, reader, keys, screens } = setup();
    const pulling: CardConnection = {
      atr: card.atr,
      transmit: async (c) => {
        if (c[1] === 0xae) {
          reader.removeCard();
          card.remove();
        }
        return card.transmit(c);
      },
      close: () => card.close(),
    };
    reader.insertCard(pulling);
    keys("OK", "1", "2", "3", "4", "OK");
    await reader.settled();
    expect(reader.screen.state).toBe("off");
    expect(screens.some((s) => s.state === "code")).toBe(false);
  });

  it("emits every screen as an event", async () => {
    const { card, reader, keys, screens } = setup();
    reader.insertCard(card);
    keys("OK", "1", "2", "3", "4", "OK");
    await reader.settled();
    expect(screens.map((s) => s.state)).toEqual([
      "menu",
      "pin",
      "pin",
      "pin",
      "pin",
      "pin",
      "working",
      "code",
    ]);
  });
});
