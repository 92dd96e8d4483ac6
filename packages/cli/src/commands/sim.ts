import { existsSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type { Command } from "commander";
import { readPin } from "../shared/input.js";
import { maskPan, type Run, usage } from "../shared/output.js";
import { interactiveReader } from "../sim/reader-terminal.js";
// Types only: token-state.ts loads @capkit/token-sim (and through it oath and emv-cap), so the command imports
// it when it runs, not every `capkit` start-up (docs/benchmarks.md, CLI start-up).
import type { TokenState } from "../sim/token-state.js";

export function registerSim(program: Command, run: Run): void {
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
        await simCard.close();
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
        const { SESAME_PIN_LENGTH, simCardProfile } = await import("@capkit/token-sim");
        const { createCardStateFile } = await import("@capkit/token-sim/node");
        // A Sésame reader takes exactly 4 digits: a card made for it with another PIN could never be used.
        if (simCardProfile(o.profile).readerProfile === "sesame" && o.pin.length !== SESAME_PIN_LENGTH)
          throw usage(
            `a card for a Sésame reader needs a ${SESAME_PIN_LENGTH}-digit PIN`,
            `the reader's keypad takes ${SESAME_PIN_LENGTH} digits, e.g. --pin 1234`,
          );
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
    .description("an SGpass-style token: Enter shows a code with a live countdown (TOTP by default); q quits")
    .option("--state <file>", "keep the token in this file (created with the options below, 0600)")
    .option(
      "--uri <otpauth-uri>",
      "provision from an otpauth:// URI (@FILE reads it from a file, - from stdin)",
    )
    .option("--secret <base32>", "or from a seed in base32 (@FILE or - too)")
    .option("--secret-hex <hex>", "or from a seed in hex (@FILE or - too)")
    .option("--hotp", "with --secret/--secret-hex: HOTP (counter) instead of TOTP")
    .option("--pin <digits>", "the token's PIN (4 to 8 digits), asked before a code is shown")
    .action(
      (o: {
        state?: string;
        uri?: string;
        secret?: string;
        secretHex?: string;
        hotp?: boolean;
        pin?: string;
      }) =>
        run(async (out) => {
          const ts = await import("@capkit/token-sim");
          const { fromHex, toHex } = await import("@capkit/core");
          const oath = await import("@capkit/oath");
          const { readTokenState, TOKEN_FORMAT, writeTokenState } = await import("../sim/token-state.js");
          const given = [o.uri, o.secret, o.secretHex].filter((x) => x !== undefined).length;
          if (given > 1) throw usage("give the seed once: --uri, --secret or --secret-hex");
          if (o.pin !== undefined && !/^[0-9]{4,8}$/.test(o.pin)) throw usage("--pin must be 4 to 8 digits");
          let state: TokenState;
          const reuse = o.state !== undefined && existsSync(o.state);
          if (reuse) {
            if (given || o.pin !== undefined || o.hotp)
              throw usage(`${o.state} already holds a token`, "run with --state alone to use it");
            state = readTokenState(o.state!);
          } else {
            if (given === 0)
              throw usage("give --uri, --secret or --secret-hex (or an existing --state file)");
            // A seed may come as - or @FILE, as oathtool takes its KEY (shared/input.ts).
            const { readSecretArgument } = await import("../shared/input.js");
            // A URI means what it means everywhere: @capkit/oath's token parameters.
            const t = o.uri ? oath.tokenFromOtpAuth(await readSecretArgument(o.uri, "--uri")) : undefined;
            if (t?.kind === "ocra") throw usage("an otpauth URI is HOTP or TOTP");
            const secret = t
              ? t.secret
              : o.secret !== undefined
                ? oath.base32Decode(await readSecretArgument(o.secret, "--secret"))
                : fromHex(await readSecretArgument(o.secretHex!, "--secret-hex"), "--secret-hex");
            state = {
              format: TOKEN_FORMAT,
              kind: t ? (t.kind as "hotp" | "totp") : o.hotp ? "hotp" : "totp",
              secret: toHex(secret),
              algorithm: t?.algorithm ?? "SHA1",
              digits: t?.digits ?? 6,
              step: t?.step ?? 30,
              counter: t?.counter ?? 0,
              pin: o.pin ?? null,
              pinFailures: 0,
            };
          }
          const token = new ts.SgpassToken({
            kind: state.kind,
            secret: fromHex(state.secret),
            algorithm: state.algorithm,
            digits: state.digits,
            step: state.step,
            counter: state.counter,
            pinFailures: state.pinFailures,
            ...(state.pin !== null ? { pin: state.pin } : {}),
          });
          let created = !reuse;
          // Saved after every press and PIN, before the code is shown: an HOTP counter never goes back.
          const save = () => {
            if (o.state === undefined) return;
            state = { ...state, counter: token.counter, pinFailures: token.pinFailures };
            writeTokenState(o.state, state, created);
            created = false;
          };
          save();
          const press = async (pin: () => Promise<string>) => {
            let s = token.press();
            if (s.state === "pin") s = token.enterPin(await pin());
            save();
            return s;
          };
          if (out.json || !process.stdin.isTTY) {
            // One press, for scripts: the PIN (if any) is one line of standard input.
            const s = await press(() => readPin(true));
            if (s.state === "locked")
              throw new CapkitError("PIN_BLOCKED", "the token is locked (5 wrong PINs)");
            if (s.state !== "code")
              throw new CapkitError(
                "PIN_WRONG",
                `wrong PIN, ${ts.TOKEN_PIN_TRIES - token.pinFailures} tries left`,
                { details: { triesLeft: ts.TOKEN_PIN_TRIES - token.pinFailures } },
              );
            out.result(
              {
                code: s.code,
                validUntil: s.validUntil,
                ...(state.kind === "hotp" ? { counter: token.counter } : {}),
              },
              s.code ?? "",
            );
            return 0;
          }
          return interactiveToken(press);
        }),
    );
}

/** The token on a terminal: Enter shows a code and counts down its life on the same line; q quits. */
async function interactiveToken(
  press: (pin: () => Promise<string>) => Promise<import("@capkit/token-sim").TokenScreen>,
): Promise<number> {
  process.stdout.write("SGpass-style token (OATH). Enter: show a code · q: quit\n");
  let ticker: NodeJS.Timeout | undefined;
  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  const show = (text: string, validUntil: number | undefined) => {
    stopTicker();
    const line = () => {
      const left = validUntil ? Math.max(0, Math.ceil((validUntil - Date.now()) / 1000)) : 0;
      process.stdout.write(
        `\r\u001b[2K  ${text}   ${left > 0 ? `(${left} s)` : "(expired: Enter for a new one)"}`,
      );
      if (left === 0) stopTicker();
    };
    line();
    if (validUntil) ticker = setInterval(line, 1000);
  };
  let busy = false;
  try {
    await new Promise<void>((resolve) => {
      const onKey = async (b: Buffer) => {
        const k = b.toString();
        if (busy) return;
        if (k === "q" || k === "\u0003") {
          process.stdin.off("data", onKey);
          return resolve();
        }
        if (k !== "\r" && k !== "\n") return;
        busy = true;
        stopTicker();
        process.stdin.setRawMode(false);
        process.stdin.off("data", onKey);
        try {
          process.stdout.write("\n");
          const s = await press(() => readPin(false, "  PIN ? "));
          if (s.state === "code") show(s.text, s.validUntil);
          else
            process.stdout.write(
              `  ${s.text}${s.state === "locked" ? " (5 wrong PINs: the token is locked)" : ""}\n`,
            );
        } catch (e) {
          process.stdout.write(`  ${(e as Error).message}\n`);
        } finally {
          busy = false;
          process.stdin.setRawMode(true);
          process.stdin.resume();
          process.stdin.on("data", onKey);
        }
      };
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on("data", onKey);
    });
  } finally {
    stopTicker();
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write("\n");
  }
  return 0;
}
