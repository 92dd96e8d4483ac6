// The bank's only script (CSP: script-src 'self'). Four jobs:
// 1. The SOGENET keypad. Shuffled: each button appends its cell number to the hidden `cells` field (the server
//    maps cells back to digits with the layout it sealed); accessible: the digit, to the labelled password field.
//    Plain buttons, so a keyboard (Tab, Enter/Space) works as well as a pointer; the count typed is announced.
// 2. The idle warning (PSD2 RTS Art. 4(3)(d): 5 minutes): one minute before the limit, a warning with « Rester
//    connecté »; at the limit, the page reloads and the bank shows its login form.
// 3. Demo: when the simulated reader shows CARTE BLOQUEE, tell the bank, so the card stays blocked.
for (const pad of document.querySelectorAll("[data-keypad]")) {
  const field = pad.querySelector('input[name="cells"]') ?? pad.querySelector('input[name="password"]');
  const dots = pad.querySelector("[data-dots]");
  const show = () => {
    if (!dots) return;
    const n = field.value.length;
    dots.textContent =
      n === 0
        ? "Aucun chiffre saisi"
        : `${"●".repeat(n)} (${n} chiffre${n > 1 ? "s" : ""} saisi${n > 1 ? "s" : ""})`;
  };
  pad.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const key = button.dataset.cell ?? button.dataset.digit;
    if (key !== undefined && field.value.length < 6) field.value += key;
    else if (button.hasAttribute("data-clear")) field.value = "";
    else return;
    show();
  });
}

const csrf = () => document.querySelector('input[name="_csrf"]')?.value ?? "";
const post = (url) =>
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: csrf() }),
  });

const idleMs = Number(document.body.dataset.idleMs);
const warnMs = Number(document.body.dataset.warnMs);
const warning = document.querySelector("[data-idle-warning]");
if (idleMs > 0 && warning) {
  let timers = [];
  const arm = () => {
    for (const t of timers) clearTimeout(t);
    warning.hidden = true;
    timers = [
      setTimeout(() => {
        warning.hidden = false;
      }, warnMs),
      setTimeout(() => location.reload(), idleMs + 1000),
    ];
  };
  warning.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("/session/keepalive").then((r) => (r.ok ? arm() : location.reload()));
  });
  arm();
}

document.addEventListener("capkit-screen", (event) => {
  if (event.detail?.state === "blocked") post("/devices/card/blocked");
});

// 4. Demo: « Installer la nouvelle version de SogeSmart » puts the next major version of the app on that phone
//    (kept in this browser, so a reload keeps the installed version).
const versionKey = (phone) => `capkit-sogesmart-version:${phone}`;
for (const app of document.querySelectorAll("capkit-sogesmart-app[phone]")) {
  const installed = localStorage.getItem(versionKey(app.getAttribute("phone")));
  if (installed) app.setAttribute("app-version", installed);
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-new-version]");
  if (!button) return;
  const phone = button.dataset.newVersion;
  const app = document.querySelector(`capkit-sogesmart-app[phone="${phone}"]`);
  if (!app) return;
  const major = Number((app.getAttribute("app-version") ?? "5.0.0").split(".")[0]) + 1;
  const version = `${major}.0.0`;
  localStorage.setItem(versionKey(phone), version);
  app.setAttribute("app-version", version);
});

// 5. The passerelle (Progéliance Net ⇄ Particuliers): the form carrying the one-time ticket to the other space is
//    sent at once — in the body of a POST, never in a URL; its visible button is the fallback without script.
for (const form of document.querySelectorAll("form[data-autosubmit]")) form.requestSubmit();
