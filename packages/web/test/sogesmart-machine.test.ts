import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkForm } from "../src/sogesmart/checks.js";
import {
  APP_MACHINE,
  APP_SCREENS,
  type AppEvent,
  type AppScreen,
  CUSTOMER_EVENTS,
  EFFECT_OUTCOMES,
  initialScreen,
  OUTCOME_EVENTS,
  transition,
} from "../src/sogesmart/machine.js";
import { parseQrActivation, qrActivationText } from "../src/sogesmart/qr-payload.js";
import { type View, viewOf } from "../src/sogesmart/views.js";
import { GUIDE } from "../src/sogesmart/words.js";

/** The app's table walked without a browser: every screen reachable, every button wired, the guide's words. */
const guide = JSON.parse(
  readFileSync(new URL("./fixtures/sogesmart-guide.json", import.meta.url), "utf8"),
) as {
  screens: Record<string, string[]>;
  activationHeadings: Record<string, string>;
  messages: Record<string, string>;
};
const ctx = { purpose: "first" as const, asksCurrentPassword: true };

function textsOf(v: View): string[] {
  return [
    v.heading,
    ...(v.subheading ? [v.subheading] : []),
    ...v.texts,
    ...v.fields.flatMap((f) => [f.label, ...(f.hint ? [f.hint] : [])]),
    ...v.actions.map((a) => a.label),
    ...(v.footer ? [v.footer.text, v.footer.action.label] : []),
  ];
}

describe("the SogeSmart app's table", () => {
  it("reaches every screen from where the app opens, by the customer's events and the bank's answers", () => {
    const seen = new Set<AppScreen>([initialScreen(false), initialScreen(true)]);
    const todo = [...seen];
    while (todo.length) {
      const s = todo.pop()!;
      for (const e of [...CUSTOMER_EVENTS, ...OUTCOME_EVENTS] as AppEvent[]) {
        const to = transition(s, e)?.to;
        if (to && !seen.has(to)) {
          seen.add(to);
          todo.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...APP_SCREENS].sort());
  });

  it("wires every button a screen shows, and no event it does not show", () => {
    for (const s of APP_SCREENS) {
      const v = viewOf(s, ctx);
      const shown = new Set<string>(
        [...v.actions, ...(v.footer ? [v.footer.action] : [])].map((a) => a.event),
      );
      for (const e of shown) expect(transition(s, e as AppEvent), `${s}: ${e}`).toBeDefined();
      for (const e of CUSTOMER_EVENTS)
        if (APP_MACHINE[s][e])
          expect(shown.has(e), `${s} handles ${e} but shows no button for it`).toBe(true);
    }
  });

  it("says, on each screen that makes a request, where every outcome of that request goes", () => {
    for (const s of APP_SCREENS)
      for (const e of CUSTOMER_EVENTS) {
        const effect = APP_MACHINE[s][e]?.effect;
        if (!effect) continue;
        for (const o of EFFECT_OUTCOMES[effect])
          expect(transition(s, o), `${s}: ${effect} → ${o}`).toBeDefined();
      }
  });

  it("ignores what a screen does not list: a bank's late answer moves nothing", () => {
    expect(transition("welcome", "loggedIn")).toBeUndefined();
    expect(transition("home", "activated")).toBeUndefined();
    expect(transition("subscribed", "submit")).toBeUndefined();
  });
});

describe("the guide's words, word for word", () => {
  for (const [screen, words] of Object.entries(guide.screens))
    it(`${screen}: every text of the guide's screen`, () => {
      const shown = textsOf(viewOf(screen as AppScreen, ctx));
      for (const w of words) expect(shown, w).toContain(w);
    });

  it("the three activation headings, by why the app is activated", () => {
    for (const [purpose, heading] of Object.entries(guide.activationHeadings))
      expect(viewOf("activation", { ...ctx, purpose: purpose as "first" }).heading).toBe(heading);
  });

  it("the two messages of « AUTRE », with the bank's own count of failures", () => {
    expect(GUIDE.unavailable).toBe(guide.messages["unavailable"]);
    expect(GUIDE.blocked(5)).toBe(guide.messages["blocked"]);
  });

  it("asks for the current password only when the activation has the password feature (not after a QR code)", () => {
    const labels = (asks: boolean) =>
      viewOf("authentication", { ...ctx, asksCurrentPassword: asks }).fields.map((f) => f.label);
    expect(labels(true)).toEqual([
      "Mot de passe actuel",
      "Nouveau mot de passe",
      "Confirmation du mot de passe",
    ]);
    expect(labels(false)).toEqual(["Nouveau mot de passe", "Confirmation du mot de passe"]);
  });
});

describe("the forms, checked before anything is sent", () => {
  it("identifiants of 8 digits, passwords of 6, SMS codes of 8 (spaces allowed)", () => {
    expect(checkForm("activation", { identifiant: " 12345678 " })).toEqual({
      ok: true,
      values: { identifiant: "12345678" },
    });
    expect(checkForm("activation", { identifiant: "1234567" }).ok).toBe(false);
    expect(checkForm("password-lost", { identifiant: "1234567a" }).ok).toBe(false);
    expect(checkForm("login", { login: "12345678", password: "12345" }).ok).toBe(false);
    expect(checkForm("sms", { sms: "1234 5678" })).toEqual({ ok: true, values: { sms: "12345678" } });
    expect(checkForm("sms", { sms: "1234 567" }).ok).toBe(false);
  });

  it("a new password: 6 digits, confirmed, different from the current one", () => {
    const asks = { asksCurrentPassword: true };
    expect(
      checkForm("authentication", { current: "112233", next: "246813", confirm: "246813" }, asks),
    ).toEqual({
      ok: true,
      values: { current: "112233", next: "246813" },
    });
    expect(
      checkForm("authentication", { current: "112233", next: "246813", confirm: "246812" }, asks),
    ).toEqual({
      ok: false,
      message: "La confirmation ne correspond pas au nouveau mot de passe.",
    });
    expect(checkForm("settings", { current: "246813", next: "246813", confirm: "246813" }).ok).toBe(false);
    expect(
      checkForm("authentication", { next: "246813", confirm: "246813" }, { asksCurrentPassword: false }),
    ).toEqual({ ok: true, values: { next: "246813" } });
  });

  it("the subscription request: every field, a mail address, an 11-digit account number", () => {
    const ok = {
      firstName: "Camille",
      lastName: "Martin",
      birthDate: "1990-04-12",
      email: "camille@example.nc",
      account: "123 456 789 01",
    };
    expect(checkForm("subscription", ok)).toEqual({ ok: true, values: { ...ok, account: "12345678901" } });
    expect(checkForm("subscription", { ...ok, email: "camille" }).ok).toBe(false);
    expect(checkForm("subscription", { ...ok, firstName: " " })).toEqual({
      ok: false,
      message: "Veuillez renseigner le champ « Prénom ».",
    });
  });
});

describe("the activation QR code's text", () => {
  const a = {
    activationId: "0123456789abcdef0123456789abcdef",
    regId: "fedcba9876543210fedcba9876543210",
    serverIdentity: "127.0.0.1:3000",
    webSession: "00112233445566778899aabbccddeeff",
  };
  it("reads back what it wrote", () => {
    const text = qrActivationText(a);
    expect(text.startsWith("sogesmart:activation?v=1&")).toBe(true);
    expect(parseQrActivation(text)).toEqual(a);
  });
  it("refuses anything else", () => {
    for (const t of [
      "https://example.com/",
      qrActivationText(a).replace("v=1", "v=2"),
      qrActivationText(a).replace(/&w=[0-9a-f]+/, "&w=xyz"),
      qrActivationText(a).replace(/&w=[0-9a-f]+/, ""),
      `${qrActivationText(a)}${"&x=1".repeat(120)}`,
      42,
    ])
      expect(() => parseQrActivation(t)).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
  });
});
