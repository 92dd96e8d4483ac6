import { CapkitError } from "@capkit/core";
import type { Command } from "commander";
import { explainCapCode, formatExplanation } from "../cap/explain.js";
import { loadProfile, openCard } from "../shared/card-source.js";
import { readPin } from "../shared/input.js";
import { type Output, usage } from "../shared/output.js";

interface CapCodeOptions {
  mode: string;
  challenge?: string;
  amount?: string;
  currency?: string;
  tds?: string[];
  profile?: string;
  aid?: string;
  reader?: string;
  transcript?: string;
  sim?: string;
  pinStdin?: boolean;
  trace?: string;
  traceUnredacted?: boolean;
  force?: boolean;
  explain?: boolean;
}

/**
 * The answer to a replay of a shared trace: the dialogue went through, command for command, and the code is
 * not in the recording (its cryptogram was masked), so none is shown — not one computed from masked bytes.
 */
function codeNotKept(out: Output, e: CapkitError): void {
  const d = e.details ?? {};
  const warnings = Array.isArray(d["warnings"]) ? (d["warnings"] as string[]) : [];
  out.result(
    {
      code: null,
      codeKept: false,
      replayed: true,
      reason: e.message,
      hint: e.hint ?? null,
      atc: d["atc"],
      aid: d["aid"],
      label: d["label"] ?? null,
      profile: d["profile"],
      readerApplication: d["readerApplication"],
      mode: d["mode"],
      cdol1: d["cdol1"],
      iaf: d["iaf"],
      warnings,
    },
    () =>
      [
        "code not kept: the trace masks the cryptogram, so it carries no usable code",
        `  the dialogue replayed, every command as recorded: ${d["mode"]} · ATC ${d["atc"]} · ${d["aid"]}${d["label"] ? ` "${d["label"]}"` : ""} · profile ${d["profile"]}`,
        ...warnings.map((w) => `  warning: ${w}`),
        `  hint: ${e.hint}`,
      ].join("\n"),
  );
}

/**
 * Replaying a transcript needs no PIN: the recorded VERIFY is masked and matches any PIN block, and the card's
 * answers are the recorded ones. Any 4 digits do; nobody is asked.
 */
const REPLAY_PIN = "0000";

export function registerCap(
  program: Command,
  run: (fn: (out: Output) => Promise<number | undefined>) => Promise<void>,
): void {
  const cap = program.command("cap").description("EMV-CAP / Visa DPA codes from a chip card");
  cap
    .command("code")
    .description("generate a code as the bank's reader would (Sésame 'Code' = identify)")
    .option("--mode <mode>", "identify | respond | sign", "identify")
    .option("--challenge <digits>", "the bank's challenge (respond, sign)")
    .option("--amount <amount>", "sign: the amount, e.g. 123.45")
    .option("--currency <code>", "sign: ISO 4217 numeric currency, when the card wants it (EUR 978)")
    .option("--tds <numbers...>", "identify with transaction data (Mode 2 + TDS): 1–10 numbers")
    .option(
      "--profile <name|file>",
      "reader profile: sesame (default), visa-dpa, mastercard-cap, uk, rabobank, belgian, or a JSON file",
    )
    .option("--aid <hex>", "use this application and no other")
    .option(
      "--reader <name>",
      "PC/SC reader: its name or a unique part of it (default: the one holding a card)",
    )
    .option("--transcript <file>", "replay a recorded session instead of a card")
    .option("--sim <file>", "use a simulated card file (capkit sim card new)")
    .option("--pin-stdin", "read the PIN from one line of standard input")
    .option(
      "--trace <file>",
      "record the APDUs to a new transcript file (mode 0600; PIN masked, PAN/expiry/track 2/name and the cryptogram redacted: no usable code in it)",
    )
    .option(
      "--trace-unredacted",
      "with --trace: keep the cardholder data and the cryptogram (a lab's own test cards only)",
    )
    .option("--force", "verify the PIN even with one try left (risks blocking the card)")
    .option("--explain", "also show where each CDOL1 value came from: the profile, your input, or zeros")
    .action((o: CapCodeOptions) =>
      run(async (out) => {
        const emv = await import("@capkit/emv-cap");
        const mode = o.mode;
        if (mode !== "identify" && mode !== "respond" && mode !== "sign")
          throw usage(`unknown mode ${mode}`, "use identify, respond or sign");
        const inputs = {
          mode,
          ...(o.challenge !== undefined ? { challenge: o.challenge } : {}),
          ...(o.amount !== undefined ? { amount: o.amount } : {}),
          ...(o.currency !== undefined ? { currency: o.currency } : {}),
          ...(o.tds !== undefined ? { tds: o.tds } : {}),
        } as const;
        const profile = await loadProfile(o.profile);
        const card = await openCard(o, out);
        try {
          const pin =
            card.pinpad ?? (o.transcript !== undefined ? REPLAY_PIN : await readPin(o.pinStdin ?? false));
          if (card.pinpad) out.info("Type the PIN on the reader's keypad…");
          let r: Awaited<ReturnType<typeof emv.generateCapCode>>;
          try {
            r = await emv.generateCapCode(card.conn, inputs, {
              pin,
              ...(profile ? { profile } : {}),
              ...(o.aid ? { aid: o.aid } : {}),
              ...(o.force ? { force: true } : {}),
            });
          } catch (e) {
            // A shared trace: its dialogue replayed, but it keeps no code (docs/transcript-format.md).
            if (!(e instanceof CapkitError) || e.code !== "CODE_NOT_KEPT") throw e;
            codeNotKept(out, e);
            return 0;
          }
          const explanation = o.explain
            ? explainCapCode(r, profile ?? emv.readerProfile(emv.DEFAULT_PROFILE), emv.tagName)
            : undefined;
          out.result(
            {
              code: r.code,
              display: r.display,
              atc: r.atc,
              aid: r.aid,
              label: r.label ?? null,
              profile: r.profile,
              readerApplication: r.readerApplication,
              mode: r.mode,
              // What went into the cryptogram, tag by tag, and what came out: for "the bank rejects my codes".
              cdol1: r.cdol1,
              cryptogram: r.cryptogram,
              formula: r.formula,
              ipb: r.ipb,
              iaf: r.iaf,
              warnings: r.warnings,
              ...(explanation ? { explanation } : {}),
            },
            () =>
              [
                r.display,
                `  ${r.mode} · ATC ${r.atc} · ${r.aid}${r.label ? ` "${r.label}"` : ""} · profile ${r.profile}`,
                ...r.warnings.map((w) => `  warning: ${w}`),
                ...(explanation ? ["", formatExplanation(explanation)] : []),
              ].join("\n"),
          );
          return 0;
        } finally {
          await card.close().catch((e: unknown) => {
            if (!(e instanceof CapkitError)) throw e;
          });
        }
      }),
    );
}
