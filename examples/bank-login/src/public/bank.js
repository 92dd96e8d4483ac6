// The SOGENET keypad: each digit button appends to the password field; "Effacer" clears it. Plain buttons, so
// a keyboard (Tab, Enter/Space) works as well as a pointer; the count of digits typed is announced.
for (const pad of document.querySelectorAll("[data-keypad]")) {
  const field = pad.querySelector('input[name="password"]');
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
    if (button.dataset.digit !== undefined && field.value.length < 6) field.value += button.dataset.digit;
    else if (button.hasAttribute("data-clear")) field.value = "";
    else return;
    show();
  });
}
