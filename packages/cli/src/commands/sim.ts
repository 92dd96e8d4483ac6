import type { Command } from "commander";
import { type Output, usage } from "../output.js";

const maskPan = (pan: string) => `${pan.slice(0, 6)}${"•".repeat(pan.length - 10)}${pan.slice(-4)}`;

export function registerSim(
  program: Command,
  run: (fn: (out: Output) => Promise<number | undefined>) => Promise<void>,
): void {
  const sim = program
    .command("sim")
    .description("simulated hardware: CAP card, Sésame reader, SGpass-style token");

  const card = sim
    .command("card")
    .description("show a simulated card file, or serve it to pcscd with --vpcd")
    .option("--state <file>", "the card file")
    .option("--vpcd", "serve the card to pcscd through the vsmartcard vpcd driver until stopped")
    .option("--port <port>", "vpcd port of the reader slot", "35963")
    .action((o: { state?: string; vpcd?: boolean; port: string }) =>
      run(async (out) => {
        if (!o.state)
          throw usage(
            "--state <file> is required",
            "create one with: capkit sim card new --profile sesame --pin 1234 --out card.json",
          );
        const ts = await import("@capkit/token-sim/node");
        if (!o.vpcd) {
          const s = ts.readCardStateFile(o.state);
          const info = {
            profile: s.profile,
            pan: maskPan(s.pan),
            psn: s.psn,
            atc: s.atc,
            pinTries: s.pinTries,
          };
          out.result(info, () =>
            Object.entries(info)
              .map(([k, v]) => `${k}: ${v}`)
              .join("\n"),
          );
          return 0;
        }
        const simCard = ts.openCardStateFile(o.state);
        const port = Number(o.port);
        const bridge = new ts.VpcdBridge(simCard, {
          port,
          onEvent: (e) =>
            out.info(
              e === "connected"
                ? `card inserted in vpcd port ${port}`
                : e === "disconnected"
                  ? "vpcd connection lost: retrying"
                  : "card removed",
            ),
        });
        out.info(
          `serving ${o.state} (${simCard.profile.name}) to pcscd on vpcd port ${port}; Ctrl-C to stop`,
        );
        void bridge.insert();
        await new Promise<void>((resolve) => {
          const stop = () => {
            bridge.remove();
            resolve();
          };
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        out.result({ stopped: true, atc: simCard.state.atc }, "stopped");
        return 0;
      }),
    );

  card
    .command("new")
    .description("create a test card with fresh random keys (the file holds its secrets: mode 0600)")
    .option("--profile <name>", "sesame | mastercard-cap | uk", "sesame")
    .requiredOption("--pin <digits>", "the card's PIN (4 digits for a Sésame reader)")
    .requiredOption("--out <file>", "where to write it (never overwritten)")
    .action((o: { profile: string; pin: string; out: string }) =>
      run(async (out) => {
        const { createCardStateFile } = await import("@capkit/token-sim/node");
        const s = createCardStateFile(o.out, o.profile, o.pin);
        out.result(
          { file: o.out, profile: s.profile, pan: maskPan(s.pan), atc: s.atc },
          `created ${o.out}: ${s.profile} card ${maskPan(s.pan)}`,
        );
        return 0;
      }),
    );

  sim
    .command("reader")
    .description(
      "an interactive Sésame reader in the terminal (keypad from the keyboard, LCD drawn, 35 s countdown)",
    )
    .option("--sim <file>", "the card to insert (default: a fresh sesame card, PIN 1234)")
    .action((o: { sim?: string }) => run(async () => interactiveReader(o.sim)));

  sim
    .command("token")
    .description("an SGpass-style token: Enter shows a code (TOTP by default); q quits")
    .option("--uri <otpauth-uri>", "provision from an otpauth:// URI")
    .option("--secret-hex <hex>", "or from a seed in hex (TOTP, 6 digits, 30 s)")
    .action((o: { uri?: string; secretHex?: string }) =>
      run(async (out) => {
        const ts = await import("@capkit/token-sim");
        const { fromHex } = await import("@capkit/core");
        const token = o.uri
          ? ts.SgpassToken.fromUri(o.uri)
          : o.secretHex
            ? new ts.SgpassToken({ kind: "totp", secret: fromHex(o.secretHex, "--secret-hex") })
            : undefined;
        if (!token) throw usage("give --uri or --secret-hex");
        if (out.json || !process.stdin.isTTY) {
          const s = token.press();
          out.result({ code: s.code, validUntil: s.validUntil }, s.code ?? "");
          return 0;
        }
        process.stdout.write("SGpass-style token (OATH). Enter: show a code · q: quit\n");
        process.stdin.setRawMode(true);
        process.stdin.resume();
        await new Promise<void>((resolve) => {
          process.stdin.on("data", (b: Buffer) => {
            const k = b.toString();
            if (k === "q" || k === "\u0003") {
              process.stdin.setRawMode(false);
              process.stdin.pause();
              resolve();
            } else if (k === "\r" || k === "\n") {
              const s = token.press();
              const left = s.validUntil ? Math.max(0, Math.round((s.validUntil - Date.now()) / 1000)) : 0;
              process.stdout.write(`  ${s.text}   (${left} s)\n`);
            }
          });
        });
        return 0;
      }),
    );
}

/** The reader on a terminal: raw keys in, the LCD redrawn on every screen event and every second. */
async function interactiveReader(simFile: string | undefined): Promise<number> {
  if (!process.stdin.isTTY) throw usage("sim reader is interactive: run it in a terminal");
  const ts = await import("@capkit/token-sim/node");
  const card = simFile
    ? ts.openCardStateFile(simFile)
    : new ts.SimulatedCard(ts.newSimCardState("sesame", "1234"));
  const reader = new ts.SesameReader();
  let inserted = false;
  let offAt: number | undefined;
  const draw = () => {
    const s = reader.screen;
    const pad = (t: string) => t.padEnd(16).slice(0, 16);
    const lines = s.state === "off" ? ["", ""] : s.lines;
    const countdown =
      s.state === "code" && offAt
        ? `display off in ${Math.max(0, Math.ceil((offAt - Date.now()) / 1000))} s`
        : "";
    process.stdout.write(
      [
        "\u001b[2J\u001b[H  Sésame reader (simulated)",
        "  ┌──────────────────┐",
        `  │ ${pad(lines[0])} │`,
        `  │ ${pad(lines[1])} │`,
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
  reader.onScreen((s) => {
    offAt = s.state === "code" ? Date.now() + 35_000 : undefined;
    draw();
  });
  const timer = setInterval(draw, 1000);
  draw();
  process.stdin.setRawMode(true);
  process.stdin.resume();
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
  clearInterval(timer);
  process.stdin.setRawMode(false);
  process.stdin.pause();
  process.stdout.write("\n");
  return 0;
}
