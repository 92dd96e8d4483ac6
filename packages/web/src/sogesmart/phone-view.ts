import { el } from "../dom.js";
import type { FormValues } from "./checks.js";
import type { AppScreen, CustomerEvent } from "./machine.js";
import type { View } from "./views.js";
import { APP } from "./words.js";

/**
 * How `<capkit-sogesmart-app>` draws a view (views.ts): the phone frame, the bank's bar, the heading, the
 * message (an alert for an error, a status for a notice), the form with its labelled fields (hints as
 * descriptions), its buttons, and a status line while a request is under way. Native buttons and fields only,
 * so the keyboard works everywhere; the styles are one constructed stylesheet (strict CSP: no inline style).
 */

/** A message the app shows above its form, in its words (French, as the screen shows it). */
export interface ScreenMessage {
  /** `error`: drawn as an alert (a refusal, the server unavailable); `notice`: a status (done, logged out). */
  readonly kind: "error" | "notice";
  /** The text on the screen. */
  readonly text: string;
}

export const PHONE_STYLE = `
:host { display: inline-block; font-family: system-ui, sans-serif; color: #111; }
.phone { width: 340px; min-height: 560px; border-radius: 36px; background: #1b1b1f; padding: 14px;
  box-shadow: 0 6px 18px rgb(0 0 0 / 35%); box-sizing: border-box; }
.screen { background: #fff; border-radius: 24px; min-height: 532px; overflow: hidden; display: flex;
  flex-direction: column; }
.bar { background: #e9041e; color: #fff; padding: 10px 16px; font-size: 12px; letter-spacing: 0.06em;
  font-weight: bold; text-align: center; }
.bar .bank { display: block; font-size: 11px; font-weight: normal; letter-spacing: 0.02em; }
.content { padding: 14px 18px 18px; display: flex; flex-direction: column; gap: 10px; flex: 1; }
h2 { font-size: 17px; margin: 4px 0 0; letter-spacing: 0.02em; }
h2:focus { outline: none; }
h3 { font-size: 14px; margin: 0; color: #333; }
p { margin: 0; font-size: 14px; line-height: 1.35; }
form { display: flex; flex-direction: column; gap: 10px; }
label { display: flex; flex-direction: column; gap: 4px; font-size: 14px; font-weight: 600; }
.hint { font-weight: normal; font-size: 12px; color: #444; }
input { font: inherit; font-weight: normal; font-size: 16px; padding: 8px; border: 1px solid #666; border-radius: 6px; }
button { font: inherit; font-size: 15px; min-height: 42px; border-radius: 21px; border: 1px solid #8b0010;
  background: #fff; color: #8b0010; cursor: pointer; padding: 0 14px; }
button.primary { background: #c4031a; color: #fff; border-color: #c4031a; }
button.link { border: none; background: none; color: #8b0010; text-decoration: underline; min-height: 32px; }
button:disabled { opacity: 0.6; cursor: wait; }
button:focus-visible, input:focus-visible { outline: 3px solid #1f5fbf; outline-offset: 2px; }
.choices { display: flex; gap: 12px; }
.choices button { flex: 1; }
.error { background: #fdecee; border-left: 4px solid #b00020; padding: 8px; font-size: 14px; }
.notice { background: #eaf5ea; border-left: 4px solid #1e7a34; padding: 8px; font-size: 14px; }
.busy { font-size: 13px; color: #333; min-height: 18px; }
.details { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 10px; font-size: 14px; }
.details dt { font-weight: 600; }
.details dd { margin: 0; overflow-wrap: anywhere; }
.footer { border-top: 1px solid #ddd; padding-top: 10px; display: flex; flex-direction: column; gap: 8px; }
`;

export interface PhoneDrawing {
  readonly view: View;
  readonly screen: AppScreen;
  readonly label: string;
  readonly message: ScreenMessage | undefined;
  readonly busy: boolean;
  /** What the fields hold (passwords are never put back after a redraw, unless busy). */
  readonly values: FormValues;
  /** A button or the form was used: the event, with what the fields hold now. */
  readonly onEvent: (event: CustomerEvent, values: FormValues) => void;
}

/** The phone's DOM for one screen, and the element to focus when the screen is new. */
export function drawPhone(o: PhoneDrawing): { phone: HTMLElement; focus: HTMLElement } {
  const { view } = o;
  const phone = el("div", { class: "phone", role: "group", "aria-label": o.label });
  const screen = el("div", { class: "screen" });
  const bar = el("div", { class: "bar", "aria-hidden": "true" }, "SOGESMART");
  bar.append(el("span", { class: "bank" }, "Société Générale Calédonienne de Banque"));
  const content = el("div", { class: "content", "data-screen": o.screen, "aria-busy": String(o.busy) });
  const heading = el("h2", { tabindex: "-1" }, view.heading);
  content.append(heading);
  if (o.message)
    content.append(
      el(
        "div",
        o.message.kind === "error" ? { class: "error", role: "alert" } : { class: "notice", role: "status" },
        o.message.text,
      ),
    );
  if (view.subheading) content.append(el("h3", {}, view.subheading));
  for (const t of view.texts) content.append(el("p", {}, t));
  if (view.details) {
    const dl = el("dl", { class: "details" });
    for (const [label, value] of view.details) dl.append(el("dt", {}, label), el("dd", {}, value));
    content.append(dl);
  }
  content.append(form(o));
  content.append(el("p", { class: "busy", role: "status" }, o.busy ? APP.busy : ""));
  screen.append(bar, content);
  phone.append(screen);
  return { phone, focus: (content.querySelector("input") as HTMLInputElement | null) ?? heading };
}

function form(o: PhoneDrawing): HTMLElement {
  const { view } = o;
  const f = el("form", { novalidate: "" }) as HTMLFormElement;
  const inputs: HTMLInputElement[] = [];
  for (const [i, field] of view.fields.entries()) {
    const label = el("label", {}, field.label);
    const hintId = `hint-${o.screen}-${i}`;
    const input = el("input", {
      ...(field.hint ? { "aria-describedby": hintId } : {}),
      name: field.name,
      type: field.type,
      autocomplete: field.autocomplete,
      ...(field.inputmode ? { inputmode: field.inputmode } : {}),
      ...(field.maxlength ? { maxlength: String(field.maxlength) } : {}),
    }) as HTMLInputElement;
    if (field.type !== "password" || o.busy) input.value = o.values[field.name] ?? "";
    input.disabled = o.busy;
    label.append(input);
    f.append(label);
    if (field.hint) f.append(el("span", { class: "hint", id: hintId }, field.hint));
    inputs.push(input);
  }
  const run = (event: CustomerEvent) =>
    o.onEvent(event, Object.fromEntries(inputs.map((x) => [x.name, x.value])));
  const button = (a: View["actions"][number]) => {
    const b = el(
      "button",
      {
        type: a.kind === "submit" ? "submit" : "button",
        class: a.kind === "submit" ? "primary" : a.kind === "link" ? "link" : "",
      },
      a.label,
    ) as HTMLButtonElement;
    b.disabled = o.busy;
    if (a.kind === "submit") b.dataset["event"] = a.event;
    else b.addEventListener("click", () => run(a.event));
    return b;
  };
  const choices = view.fields.length === 0 && view.actions.every((a) => a.kind === "button");
  const row = el("div", { class: choices ? "choices" : "actions" });
  const links: HTMLButtonElement[] = [];
  for (const a of view.actions) a.kind === "link" ? links.push(button(a)) : row.append(button(a));
  f.append(row, ...links);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
    run(
      (submitter?.dataset["event"] as CustomerEvent | undefined) ??
        view.actions.find((a) => a.kind === "submit")?.event ??
        "submit",
    );
  });
  if (view.footer) {
    const footer = el("div", { class: "footer" });
    footer.append(el("p", {}, view.footer.text), button(view.footer.action));
    f.append(footer);
  }
  return f;
}
