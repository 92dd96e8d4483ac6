import { CapkitError } from "@capkit/core";
import type { Command } from "commander";
import { type CardSourceOptions, loadProfile, openCard } from "../card-source.js";
import { type Output, usage } from "../output.js";

function sourceOptions(cmd: Command): Command {
  return cmd
    .option("--reader <name>", "PC/SC reader (default: the first one holding a card)")
    .option("--sim <file>", "a simulated card file instead")
    .option("--transcript <file>", "a recorded session instead");
}

const maskPan = (pan: string) =>
  `${pan.slice(0, 6)}${"•".repeat(Math.max(0, pan.length - 10))}${pan.slice(-4)}`;

/** A guess at the reader profile a card was made for, from its AID and label (the card does not say). */
function profileGuess(aid: string, label: string | undefined): string {
  if (aid === "A0000000048002") return "mastercard-cap";
  if (/BARCLAYS/i.test(label ?? "")) return "uk";
  return "sesame (French DPA) or visa-dpa";
}

export function registerDevice(
  program: Command,
  run: (fn: (out: Output) => Promise<number | undefined>) => Promise<void>,
): void {
  program
    .command("readers")
    .description("PC/SC readers, whether a card is in each, and its ATR")
    .action(() =>
      run(async (out) => {
        const { PcscContext } = await import("@capkit/reader-pcsc");
        const ctx = await PcscContext.open();
        try {
          const readers = await ctx.readers();
          out.result({ readers }, () =>
            readers.length
              ? readers
                  .map((r) => `${r.name}: ${r.cardPresent ? `card, ATR ${r.atr}` : "no card"}`)
                  .join("\n")
              : "no reader",
          );
          return 0;
        } finally {
          await ctx.close();
        }
      }),
    );

  const card = program.command("card").description("chip card information");
  sourceOptions(
    card
      .command("info")
      .description("the card's CAP/DPA application data (no PIN needed; GPO counts one ATC)"),
  )
    .option("--profile <name|file>", "reader profile used to select the application")
    .option("--show-pan", "show the whole PAN (masked by default)")
    .action((o: CardSourceOptions & { profile?: string; showPan?: boolean }) =>
      run(async (out) => {
        const emv = await import("@capkit/emv-cap");
        const profile = await loadProfile(o.profile);
        const c = await openCard(o, out);
        try {
          const app = await emv.readCapApplication(c.conn, profile ? { profile } : {});
          const tries = await emv.readPinTryCounter(c.conn);
          const pan = app.data.get(0x5a) ? emv.formatTagValue(0x5a, app.data.get(0x5a)!) : undefined;
          const info = {
            atr: emv.toHex(c.conn.atr),
            aid: app.aid,
            label: app.label ?? null,
            pan: pan ? (o.showPan ? pan : maskPan(pan)) : null,
            psn: app.psn ? emv.toHex(app.psn) : null,
            expiry: app.data.get(0x5f24) ? emv.toHex(app.data.get(0x5f24)!) : null,
            aip: emv.toHex(app.aip),
            afl: emv.toHex(app.afl),
            iaf: emv.toHex(Uint8Array.of(app.iaf)),
            ipb: app.ipb ? emv.toHex(app.ipb) : null,
            ipbBits: app.ipb ? emv.ipbBitCount(app.ipb) : null,
            cdol1: emv.describeDol(app.cdol1),
            cdol2: app.cdol2 ? emv.describeDol(app.cdol2) : null,
            pinTriesLeft: tries ?? null,
            profileGuess: profileGuess(app.aid, app.label),
          };
          out.result(info, () =>
            Object.entries(info)
              .map(([k, v]) => `${k.padEnd(13)} ${v ?? "—"}`)
              .join("\n"),
          );
          return 0;
        } finally {
          await c.close();
        }
      }),
    );

  sourceOptions(
    program.command("apdu").description("send raw APDUs to a card (PIN blocks masked in all output)"),
  )
    .argument("<hex...>", "command APDUs in hex")
    .action((hex: string[], o: CardSourceOptions) =>
      run(async (out) => {
        const emv = await import("@capkit/emv-cap");
        const c = await openCard(o, out);
        const exchanges: { c: string; r: string; sw: string; meaning: string }[] = [];
        try {
          for (const h of hex) {
            const cmd = emv.fromHex(h, "APDU");
            if (cmd.length < 4) throw usage(`${emv.maskedCommandHex(cmd)} is shorter than an APDU header`);
            const r = emv.parseResponse(await c.conn.transmit(cmd));
            exchanges.push({
              c: emv.maskedCommandHex(cmd),
              r: emv.toHex(r.data),
              sw: emv.swHex(r.sw),
              meaning: emv.describeSw(r.sw),
            });
          }
        } finally {
          await c.close();
        }
        out.result({ exchanges }, () =>
          exchanges.map((e) => `> ${e.c}\n< ${e.r} ${e.sw} (${e.meaning})`).join("\n"),
        );
        return 0;
      }),
    );

  program
    .command("doctor")
    .description(
      "support diagnosis: pcscd, readers, cards, CAP applications, PIN tries, PIN pads, USB tokens",
    )
    .action(() =>
      run(async (out) => {
        const checks = await doctor();
        const icon = { ok: "✔", warn: "!", fail: "✘" } as const;
        out.result({ checks }, () =>
          checks
            .map((c) => `${icon[c.verdict]} ${c.check}: ${c.detail}${c.hint ? `\n    hint: ${c.hint}` : ""}`)
            .join("\n"),
        );
        return checks.some((c) => c.verdict === "fail") ? 1 : 0;
      }),
    );
}

interface Check {
  check: string;
  verdict: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

async function doctor(): Promise<Check[]> {
  const checks: Check[] = [];
  const fail = (check: string, e: unknown): Check => ({
    check,
    verdict: "fail",
    detail: e instanceof CapkitError ? e.message : String(e),
    ...(e instanceof CapkitError && e.hint ? { hint: e.hint } : {}),
  });
  const { readFileSync } = await import("node:fs");
  const version = (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
  checks.push({ check: "versions", verdict: "ok", detail: `capkit ${version}, Node ${process.version}` });
  const pcsc = await import("@capkit/reader-pcsc");
  const emv = await import("@capkit/emv-cap");
  let ctx: Awaited<ReturnType<typeof pcsc.PcscContext.open>> | undefined;
  try {
    ctx = await pcsc.PcscContext.open();
    checks.push({ check: "pcscd", verdict: "ok", detail: "the PC/SC service answers" });
  } catch (e) {
    checks.push(fail("pcscd", e));
  }
  if (ctx) {
    try {
      const readers = await ctx.readers();
      checks.push(
        readers.length
          ? {
              check: "readers",
              verdict: "ok",
              detail: readers.map((r) => `${r.name} (${r.cardPresent ? "card" : "empty"})`).join(", "),
            }
          : {
              check: "readers",
              verdict: "warn",
              detail: "no reader",
              hint: "plug in the card reader; pcsc_scan shows what pcscd sees",
            },
      );
      for (const r of readers.filter((x) => x.cardPresent)) {
        const name = `card in ${r.name}`;
        let conn: Awaited<ReturnType<typeof ctx.connect>> | undefined;
        try {
          conn = await ctx.connect(r.name);
          const inverse = r.atr?.startsWith("3F");
          checks.push({
            check: name,
            verdict: "ok",
            detail: `ATR ${r.atr}${inverse ? " (inverse convention: a French card, warm reset needed)" : ""}`,
          });
          const app = await emv.readCapApplication(conn);
          checks.push({
            check: `${name}: CAP application`,
            verdict: app.ipb ? "ok" : "warn",
            detail: `AID ${app.aid}${app.label ? ` "${app.label}"` : ""}, IAF ${emv.toHex(Uint8Array.of(app.iaf))}, IPB ${app.ipb ? `${emv.toHex(app.ipb)} (${emv.ipbBitCount(app.ipb)} bits)` : "none"}, CDOL1 ${emv.describeDol(app.cdol1)}; profile: ${profileGuess(app.aid, app.label)}`,
            ...(app.ipb
              ? {}
              : { hint: "no IPB: codes use the profile's fallback IPB and may not match the bank's reader" }),
          });
          const tries = await emv.readPinTryCounter(conn);
          checks.push(
            tries === undefined
              ? {
                  check: `${name}: PIN tries`,
                  verdict: "warn",
                  detail: "the card does not report its PIN try counter",
                  hint: "capkit will refuse to verify a PIN without --force",
                }
              : {
                  check: `${name}: PIN tries`,
                  verdict: tries <= 1 ? "fail" : "ok",
                  detail: `${tries} left (none spent)`,
                  ...(tries <= 1
                    ? { hint: "one wrong PIN blocks the card: a correct PIN at an ATM resets the counter" }
                    : {}),
                },
          );
          const features = await conn.features();
          checks.push({
            check: `${r.name}: PIN pad`,
            verdict: "ok",
            detail: features.has(pcsc.FEATURE_VERIFY_PIN_DIRECT)
              ? "VERIFY_PIN_DIRECT: the PIN is typed on the reader"
              : "none: the PIN is typed on the computer",
          });
        } catch (e) {
          checks.push(fail(name, e));
        } finally {
          await conn?.close().catch(() => {});
        }
      }
    } finally {
      await ctx.close();
    }
  }
  try {
    const tokens = pcsc.listHidTokens();
    checks.push({
      check: "USB HID tokens",
      verdict: "ok",
      detail: tokens.length
        ? tokens
            .map((t) => `${t.vendor} ${t.product ?? t.productId}${t.keyboard ? " (keyboard-wedge)" : ""}`)
            .join(", ")
        : "none from known vendors",
    });
  } catch (e) {
    checks.push({ ...fail("USB HID tokens", e), verdict: "warn" });
  }
  return checks;
}
