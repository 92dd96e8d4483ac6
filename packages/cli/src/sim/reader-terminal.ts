import { usage } from "../shared/output.js";

/** The Sésame reader on a terminal: raw keys in, the LCD redrawn on every screen event and every second. */
export async function interactiveReader(simFile: string | undefined): Promise<number> {
  if (!process.stdin.isTTY) throw usage("sim reader is interactive: run it in a terminal");
  const ts = await import("@capkit/token-sim/node");
  const card = simFile
    ? ts.openCardStateFile(simFile)
    : new ts.SimulatedCard(ts.newSimCardState("sesame", "1234"));
  // The countdown is drawn from the screen's own offAt, on the clock the reader runs on.
  const clock = ts.systemClock;
  const reader = new ts.SesameReader({ clock });
  let inserted = false;
  const draw = () => {
    const s = reader.screen;
    const pad = (t: string) => t.padEnd(16).slice(0, 16);
    const lines = s.state === "off" ? ["", ""] : s.lines;
    const countdown =
      s.state === "code" && s.offAt !== undefined
        ? `display off in ${Math.max(0, Math.ceil((s.offAt - clock.now()) / 1000))} s`
        : "";
    process.stdout.write(
      [
        "\u001b[2J\u001b[H  Sésame reader (simulated)",
        "  ┌──────────────────┐",
        `  │ ${pad(lines[0]!)} │`,
        `  │ ${pad(lines[1]!)} │`,
        "  └──────────────────┘",
        `  card: ${inserted ? "inserted" : "out"}   ${countdown}`,
        "",
        "  keys: 0-9 · Enter = OK · Backspace = C · Tab or f = function",
        "        i = insert/pull the card · q = quit",
        simFile ? "" : "  (fresh test card, PIN 1234)",
        "",
      ].join("\n"),
    );
  };
  reader.onScreen(draw);
  const timer = setInterval(draw, 1000);
  draw();
  process.stdin.setRawMode(true);
  process.stdin.resume();
  try {
    await new Promise<void>((resolve) => {
      process.stdin.on("data", (b: Buffer) => {
        for (const k of b.toString()) {
          if (k === "q" || k === "\u0003") return resolve();
          if (k === "i") {
            inserted = !inserted;
            if (inserted) {
              card.insert?.();
              reader.insertCard(card);
            } else {
              reader.removeCard();
            }
            draw();
          } else if (/[0-9]/.test(k)) reader.press(k as "0");
          else if (k === "\r" || k === "\n") reader.press("OK");
          else if (k === "\u007f" || k === "\b" || k === "c") reader.press("C");
          else if (k === "\t" || k === "f") reader.press("FN");
        }
      });
    });
  } finally {
    // Quit means now: the card comes out (the reader's display and inactivity timers stop with it), the card
    // file is saved and unlocked, the terminal is given back.
    clearInterval(timer);
    reader.removeCard();
    await card.close();
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write("\n");
  }
  return 0;
}
