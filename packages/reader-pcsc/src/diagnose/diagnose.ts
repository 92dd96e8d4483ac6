import { argumentError, CapkitError, expectBoolean, expectOptions, expectString, toHex } from "@capkit/core";
import {
  AID_MASTERCARD_CAP,
  describeDol,
  findTlv,
  ipbBitCount,
  isCapAid,
  PIN_TRY_MESSAGES,
  pinTryVerdict,
  profilesFor,
  readCapApplication,
  readPinTryCounter,
  selectApplication,
  TAG,
} from "@capkit/emv-cap";
import { PcscContext, type ReaderInfo } from "../context.js";
import { listHidTokens } from "../hid.js";
import { FEATURE_VERIFY_PIN_DIRECT } from "../pinpad.js";
import { decodeAtr } from "./atr.js";
import { type Check, check } from "./check.js";
import { type RedactedExchange, RedactingRecorder } from "./redact.js";
import { nameAtr, parseSmartcardList, type SmartcardListEntry } from "./smartcard-list.js";
import { driverFor, type SystemProbe, systemProbe } from "./system.js";

/**
 * The support diagnosis (https://github.com/capkit/capkit/blob/main/docs/architecture.md §7; like `ykman --diagnose`
 * for bank cards): versions, pcscd, every reader and
 * its driver, the card's ATR decoded and named, its CAP/DPA application, the PIN tries left (read with GET
 * DATA 9F17: none spent), the PIN pad, USB HID tokens. Every step is a Check; nothing here prints.
 *
 * By default the card is only SELECTed: no transaction starts, so its ATC does not move. The application's
 * records (IPB, CDOL1) are read only with `full`, after a check that says so — GET PROCESSING OPTIONS counts a
 * transaction on the card (ATC + 1), as `card info` and every code do.
 */
export interface DiagnoseOptions {
  /** The capkit version to report (the caller knows its own package). */
  readonly capkitVersion?: string;
  /** What it reads from the machine besides PC/SC ({@link systemProbe}; tests give their own). */
  readonly probe?: SystemProbe;
  /** List USB HID tokens too (default true). */
  readonly hid?: boolean;
  /** Called with each check as soon as it is made, so a caller can show progress (`capkit doctor` streams). */
  readonly onCheck?: (check: Check) => void;
  /** Read the application's records too: GET PROCESSING OPTIONS spends one ATC (said by a check first). */
  readonly full?: boolean;
}

/** What a diagnosis found. */
export interface Diagnosis {
  /** Every check, in the order made. */
  readonly checks: readonly Check[];
  /** capkit, Node, pcscd and libpcsclite versions (null: not found). */
  readonly versions: Readonly<Record<string, string | null>>;
  /** Every APDU exchanged with each card, redacted (PIN blocks, PAN, track data, expiry, name masked). */
  readonly exchanges: readonly { readonly reader: string; readonly exchanges: readonly RedactedExchange[] }[];
}

/** A guess at the reader profile a card was made for, from its AID and label (the card does not say). */
export function profileGuess(aid: string, label: string | undefined): string {
  expectString(aid, "the AID");
  if (label !== undefined) expectString(label, "the label");
  if (aid === AID_MASTERCARD_CAP) return "mastercard-cap";
  if (/BARCLAYS/i.test(label ?? "")) return "uk";
  if (isCapAid(aid)) return "sesame (French DPA) or visa-dpa";
  const readers = profilesFor(aid);
  return readers.length
    ? `${readers.join(" or ")} (its reader uses this payment application)`
    : "none: no built-in profile's reader uses this application";
}

/**
 * What to tell the holder about a PIN try counter (EMV 4.3 Book 3 §10.5.1: it is the payment PIN's), in the
 * words of the PIN-try rule that `cap code` and `apdu` apply (emv-cap's `pinTryVerdict`): a blocked card fails,
 * a counter capkit would not spend without --force warns.
 */
export function pinTriesCheck(what: string, tries: number | undefined): Check {
  const data = { triesLeft: tries ?? null };
  const verdict = pinTryVerdict(tries);
  if (verdict === "verify") return check("pin-tries", what, "ok", `${tries} left (none spent)`, { data });
  const m = PIN_TRY_MESSAGES[verdict];
  return check(
    "pin-tries",
    what,
    verdict === "blocked" ? "fail" : "warn",
    `${m.state} (none spent by this check)`,
    {
      hint: m.hint,
      data,
    },
  );
}

const failure = (id: string, what: string, e: unknown, verdict: "warn" | "fail" = "fail"): Check =>
  check(
    id,
    what,
    verdict,
    e instanceof CapkitError ? e.message : String((e as Error)?.message ?? e),
    e instanceof CapkitError && e.hint ? { hint: e.hint } : {},
  );

/**
 * Runs the diagnosis: each check made and reported as it goes (`onCheck`), none printed. The card is only
 * SELECTed unless `full` (no ATC spent); its PIN tries are read, never spent.
 *
 * @example
 * ```ts
 * const d = await diagnose({ onCheck: (c) => console.log(c.verdict, c.check, c.detail) });
 * worstVerdict(d.checks); // "ok" | "warn" | "fail"
 * ```
 */
export async function diagnose(options: DiagnoseOptions = {}): Promise<Diagnosis> {
  expectOptions(options, "the diagnose options");
  if (options.capkitVersion !== undefined) expectString(options.capkitVersion, "capkitVersion");
  expectBoolean(options.hid, "hid");
  expectBoolean(options.full, "full");
  if (options.onCheck !== undefined && typeof options.onCheck !== "function")
    throw argumentError("INPUT_INVALID", "onCheck", "a function", options.onCheck);
  const p: unknown = options.probe;
  if (
    p !== undefined &&
    (typeof p !== "object" ||
      p === null ||
      (["pcscdVersion", "libpcscliteVersion", "readerDrivers", "smartcardList"] as const).some(
        (m) => typeof (p as SystemProbe)[m] !== "function",
      ))
  )
    throw argumentError("INPUT_INVALID", "the probe", "a SystemProbe", p);
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
      await diagnoseReaders(ctx, probe, add, exchanges, options.full ?? false);
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
  full: boolean,
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
    const log = await diagnoseCard(ctx, r, list, add, full);
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
  full: boolean,
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
    add(full ? await recordsCheck(conn, name, add) : await selectCheck(conn, name));
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

const RECORDS_HINT =
  "its IPB and CDOL1 are in its records: capkit doctor --full reads them (that starts a transaction: the card's ATC goes up by one; no PIN try is spent)";

/** The application as SELECT shows it: nothing started on the card, no ATC spent. */
async function selectCheck(conn: RedactingRecorder, name: string): Promise<Check> {
  const app = await selectApplication(conn);
  const iaf = findTlv(app.fci, TAG.IAF)?.value;
  const guess = profileGuess(app.aid, app.label);
  return check(
    "application",
    `${name}: CAP application`,
    app.warnings.length ? "warn" : "ok",
    [
      `AID ${app.aid}${app.label ? ` "${app.label}"` : ""}${app.payment ? " (a payment application)" : ""}`,
      ...(iaf ? [`IAF ${toHex(iaf)}`] : []),
      `constants: ${app.reader.application.name}`,
      `profile: ${guess}`,
      "found by SELECT only (no ATC spent)",
      ...app.warnings,
    ].join("; "),
    {
      hint: RECORDS_HINT,
      data: { aid: app.aid, label: app.label ?? null, profileGuess: guess, atcSpent: false },
    },
  );
}

/** The whole application, records included: said first, because GET PROCESSING OPTIONS spends one ATC. */
async function recordsCheck(conn: RedactingRecorder, name: string, add: (c: Check) => void): Promise<Check> {
  add(
    check(
      "atc",
      `${name}: reading the records`,
      "ok",
      "GET PROCESSING OPTIONS starts a transaction: the card's ATC goes up by one (--full); no PIN try is spent",
    ),
  );
  const app = await readCapApplication(conn);
  const guess = profileGuess(app.aid, app.label);
  return check(
    "application",
    `${name}: CAP application`,
    app.ipb && app.warnings.length === 0 ? "ok" : "warn",
    [
      `AID ${app.aid}${app.label ? ` "${app.label}"` : ""}${app.payment ? " (a payment application)" : ""}`,
      `IAF ${toHex(Uint8Array.of(app.iaf))}`,
      `IPB ${app.ipb ? `${toHex(app.ipb)} (${ipbBitCount(app.ipb)} bits)` : "none"}`,
      `CDOL1 ${describeDol(app.cdol1)}`,
      `constants: ${app.reader.application.name}`,
      `profile: ${guess}`,
      ...app.warnings,
    ].join("; "),
    {
      ...(app.ipb
        ? {}
        : {
            hint: "no IPB: codes use the reader's fallback IPB or formula and may not match the bank's reader",
          }),
      data: { aid: app.aid, label: app.label ?? null, profileGuess: guess, atcSpent: true },
    },
  );
}
