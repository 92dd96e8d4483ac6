import { CapkitError, toHex } from "@capkit/core";
import { describeDol, ipbBitCount, readCapApplication, readPinTryCounter } from "@capkit/emv-cap";
import { PcscContext, type ReaderInfo } from "../context.js";
import { listHidTokens } from "../hid.js";
import { FEATURE_VERIFY_PIN_DIRECT } from "../pinpad.js";
import { decodeAtr } from "./atr.js";
import { type Check, check } from "./check.js";
import { type RedactedExchange, RedactingRecorder } from "./redact.js";
import { nameAtr, parseSmartcardList, type SmartcardListEntry } from "./smartcard-list.js";
import { driverFor, type SystemProbe, systemProbe } from "./system.js";

/**
 * The support diagnosis (docs/architecture.md §2; like `ykman --diagnose` for bank cards): versions, pcscd, every reader and
 * its driver, the card's ATR decoded and named, its CAP/DPA application, the PIN tries left (read with GET
 * DATA 9F17: none spent), the PIN pad, USB HID tokens. Every step is a Check; nothing here prints.
 */
export interface DiagnoseOptions {
  /** The capkit version to report (the caller knows its own package). */
  readonly capkitVersion?: string;
  readonly probe?: SystemProbe;
  /** List USB HID tokens too (default true). */
  readonly hid?: boolean;
  /** Called with each check as soon as it is made, so a caller can show progress (`capkit doctor` streams). */
  readonly onCheck?: (check: Check) => void;
}

export interface Diagnosis {
  readonly checks: readonly Check[];
  readonly versions: Readonly<Record<string, string | null>>;
  /** Every APDU exchanged with each card, redacted (PIN blocks, PAN, track data, expiry, name masked). */
  readonly exchanges: readonly { readonly reader: string; readonly exchanges: readonly RedactedExchange[] }[];
}

/** A guess at the reader profile a card was made for, from its AID and label (the card does not say). */
export function profileGuess(aid: string, label: string | undefined): string {
  if (aid === "A0000000048002") return "mastercard-cap";
  if (/BARCLAYS/i.test(label ?? "")) return "uk";
  return "sesame (French DPA) or visa-dpa";
}

/** What to tell the holder about a PIN try counter (EMV 4.3 Book 3 §10.5.1: it is the payment PIN's). */
export function pinTriesCheck(what: string, tries: number | undefined): Check {
  const data = { triesLeft: tries ?? null };
  if (tries === undefined)
    return check("pin-tries", what, "warn", "the card does not report its PIN try counter", {
      hint: "capkit will not verify a PIN it cannot count without --force",
      data,
    });
  if (tries === 0)
    return check("pin-tries", what, "fail", "0 left: the PIN is blocked (none spent by this check)", {
      hint: "only the bank can unblock it (it sends an unblock code or a new card); an ATM or a correct PIN cannot",
      data,
    });
  if (tries === 1)
    return check("pin-tries", what, "warn", "1 left (none spent): one wrong PIN blocks the card", {
      hint: "type the PIN carefully: a correct PIN resets the counter; capkit asks for --force before using the last try",
      data,
    });
  return check("pin-tries", what, "ok", `${tries} left (none spent)`, { data });
}

const failure = (id: string, what: string, e: unknown, verdict: "warn" | "fail" = "fail"): Check =>
  check(
    id,
    what,
    verdict,
    e instanceof CapkitError ? e.message : String((e as Error)?.message ?? e),
    e instanceof CapkitError && e.hint ? { hint: e.hint } : {},
  );

export async function diagnose(options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const probe = options.probe ?? systemProbe;
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    options.onCheck?.(c);
  };
  const exchanges: { reader: string; exchanges: readonly RedactedExchange[] }[] = [];
  const versions = {
    capkit: options.capkitVersion ?? null,
    node: process.version,
    pcscd: probe.pcscdVersion() ?? null,
    libpcsclite: probe.libpcscliteVersion() ?? null,
  };
  add(
    check(
      "versions",
      "versions",
      versions.pcscd ? "ok" : "warn",
      Object.entries(versions)
        .map(([k, v]) => `${k} ${v ?? "not found"}`)
        .join(", "),
      {
        ...(versions.pcscd ? {} : { hint: "install pcscd (Debian: apt-get install pcscd libccid)" }),
        data: versions,
      },
    ),
  );
  let ctx: PcscContext | undefined;
  try {
    ctx = await PcscContext.open();
    add(check("pcscd", "pcscd", "ok", "the PC/SC service answers"));
  } catch (e) {
    add(failure("pcscd", "pcscd", e));
  }
  if (ctx) {
    try {
      await diagnoseReaders(ctx, probe, add, exchanges);
    } finally {
      await ctx.close();
    }
  }
  if (options.hid ?? true) {
    try {
      const tokens = listHidTokens();
      add(
        check(
          "hid",
          "USB HID tokens",
          "ok",
          tokens.length
            ? tokens
                .map((t) => `${t.vendor} ${t.product ?? t.productId}${t.keyboard ? " (keyboard-wedge)" : ""}`)
                .join(", ")
            : "none from known vendors",
        ),
      );
    } catch (e) {
      add(failure("hid", "USB HID tokens", e, "warn"));
    }
  }
  return { checks, versions, exchanges };
}

async function diagnoseReaders(
  ctx: PcscContext,
  probe: SystemProbe,
  add: (c: Check) => void,
  exchanges: { reader: string; exchanges: readonly RedactedExchange[] }[],
): Promise<void> {
  const readers = await ctx.readers();
  if (readers.length === 0) {
    add(
      check("readers", "readers", "warn", "no reader", {
        hint: "plug in the card reader; pcsc_scan shows what pcscd sees",
      }),
    );
    return;
  }
  const drivers = probe.readerDrivers();
  for (const r of readers)
    add(
      check(
        "reader",
        r.name,
        "ok",
        `${r.cardPresent ? "card inserted" : "empty"}; driver ${driverFor(r.name, drivers)}`,
      ),
    );
  const withCard = readers.filter((r) => r.cardPresent);
  if (withCard.length === 0) {
    add(
      check("card", "card", "warn", "no card inserted", {
        hint: `insert the card, chip first, into ${readers.length === 1 ? readers[0]!.name : "a reader"}`,
      }),
    );
    return;
  }
  const listText = probe.smartcardList();
  const list = listText === undefined ? undefined : parseSmartcardList(listText);
  for (const r of withCard) {
    const log = await diagnoseCard(ctx, r, list, add);
    if (log) exchanges.push({ reader: r.name, exchanges: log });
  }
}

function atrCheck(what: string, atr: string, list: readonly SmartcardListEntry[] | undefined): Check {
  let detail: string;
  let data: Record<string, unknown>;
  try {
    const d = decodeAtr(atr);
    const names = list ? nameAtr(list, atr) : [];
    data = { ...d, names };
    detail = [
      `ATR ${atr}`,
      `${d.convention} convention${d.convention === "inverse" ? " (a French card: warm reset needed)" : ""}`,
      d.protocols.join(", "),
      ...(d.ta1 ? [d.ta1] : []),
      `historical bytes ${d.historicalBytes || "none"}`,
      ...(d.checksumOk === false ? ["TCK wrong"] : []),
      list === undefined
        ? "not named (pcsc-tools' smartcard_list.txt not found)"
        : names.length
          ? `known as: ${names.join("; ")}`
          : "not in smartcard_list.txt",
    ].join(", ");
  } catch (e) {
    return failure("atr", what, e, "warn");
  }
  return check("atr", what, "ok", detail, {
    ...(list === undefined ? { hint: "apt-get install pcsc-tools to name cards from their ATR" } : {}),
    data,
  });
}

async function diagnoseCard(
  ctx: PcscContext,
  r: ReaderInfo,
  list: readonly SmartcardListEntry[] | undefined,
  add: (c: Check) => void,
): Promise<readonly RedactedExchange[] | undefined> {
  const name = `card in ${r.name}`;
  if (r.mute) {
    add(
      check("atr", name, "fail", "the card does not answer (mute)", {
        hint: "take it out and insert it again, chip first and the right way up",
      }),
    );
    return undefined;
  }
  add(atrCheck(name, r.atr ?? "", list));
  let pcsc: Awaited<ReturnType<typeof ctx.connect>> | undefined;
  let conn: RedactingRecorder | undefined;
  try {
    pcsc = await ctx.connect(r.name);
    conn = new RedactingRecorder(pcsc);
    const app = await readCapApplication(conn);
    add(
      check(
        "application",
        `${name}: CAP application`,
        app.ipb ? "ok" : "warn",
        `AID ${app.aid}${app.label ? ` "${app.label}"` : ""}, IAF ${toHex(Uint8Array.of(app.iaf))}, IPB ${app.ipb ? `${toHex(app.ipb)} (${ipbBitCount(app.ipb)} bits)` : "none"}, CDOL1 ${describeDol(app.cdol1)}; profile: ${profileGuess(app.aid, app.label)}`,
        {
          ...(app.ipb
            ? {}
            : { hint: "no IPB: codes use the profile's fallback IPB and may not match the bank's reader" }),
          data: { aid: app.aid, label: app.label ?? null, profileGuess: profileGuess(app.aid, app.label) },
        },
      ),
    );
    add(pinTriesCheck(`${name}: PIN tries`, await readPinTryCounter(conn)));
    const features = await pcsc.features();
    add(
      check(
        "pin-pad",
        `${r.name}: PIN pad`,
        "ok",
        features.has(FEATURE_VERIFY_PIN_DIRECT)
          ? "VERIFY_PIN_DIRECT: the PIN is typed on the reader"
          : "none: the PIN is typed on the computer",
      ),
    );
  } catch (e) {
    add(failure("application", name, e));
  } finally {
    await pcsc?.close().catch(() => {});
  }
  return conn?.exchanges;
}
