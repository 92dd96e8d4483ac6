import { CapkitError, fromHex } from "@capkit/core";
import type { TokenParameters } from "@capkit/oath";
import type { EnrollRequest, Verifier } from "@capkit/verify";
import { readPin, readSecretArgument, readText } from "../shared/input.js";
import { type Output, usage } from "../shared/output.js";

/**
 * `capkit verify enroll --uri | --pskc`: OATH tokens into the verifier, read by @capkit/oath's one
 * otpauth/PSKC → token-parameters module, so a token means here what it means to the simulators and to
 * `capkit otp` (an OCRA key enrols as OCRA with its suite, a SHA-256 key as SHA-256). A PSKC file is enrolled
 * whole or not at all: every key is read and checked, and every id found free, before the first is enrolled;
 * if the store refuses one midway, the ones already enrolled by this run are revoked.
 */
export interface OathEnrollOptions {
  readonly id?: string;
  readonly uri?: string;
  readonly pskc?: string;
  readonly pskHex?: string;
  readonly passwordStdin?: boolean;
  readonly ocra?: string;
  readonly user?: string;
  readonly replaces?: string;
  readonly followDrift?: boolean;
}

/** One credential this run enrolled. */
export interface EnrolledToken {
  readonly id: string;
  readonly kind: TokenParameters["kind"];
  readonly serial?: string;
}

/** What an enrolment did: the credentials, and what the reader noticed (a non-conformant file read anyway). */
export interface OathEnrollment {
  readonly enrolled: EnrolledToken[];
  readonly warnings: string[];
}

/** Enrols the token of `--uri`, or every key of `--pskc` (all or none). */
export async function enrollOath(verifier: Verifier, o: OathEnrollOptions): Promise<OathEnrollment> {
  const warnings: string[] = [];
  const tokens = await readTokens(o, (w) => warnings.push(w));
  const ids = credentialIds(tokens, o);
  if (o.replaces !== undefined && tokens.length > 1)
    throw usage("--replaces replaces one credential: this file holds several keys");
  const requests = tokens.map((t, i) => enrollRequest(t, ids[i]!, o, label(t, i, tokens.length)));
  for (const [i, id] of ids.entries()) await mustBeFree(verifier, id, label(tokens[i]!, i, tokens.length));
  const done: string[] = [];
  try {
    for (const req of requests) {
      if (o.replaces !== undefined) await verifier.replace(o.replaces, req);
      else await verifier.enroll(o.user !== undefined ? ({ ...req, user: o.user } as EnrollRequest) : req);
      done.push(req.id);
    }
  } catch (e) {
    for (const id of done) await verifier.revoke(id).catch(() => undefined);
    if (!(e instanceof CapkitError) || tokens.length === 1) throw e;
    const i = done.length;
    throw new CapkitError(
      e.code,
      `${label(tokens[i]!, i, tokens.length)}: ${e.message}; nothing was enrolled`,
      {
        ...(e.hint !== undefined ? { hint: e.hint } : {}),
        cause: e,
      },
    );
  }
  const enrolled = tokens.map((t, i) => ({
    id: ids[i]!,
    kind: t.kind,
    ...(t.serial !== undefined ? { serial: t.serial } : {}),
  }));
  return { enrolled, warnings };
}

/** The tokens named on the command line: the URI's, or every key of the PSKC file (or none, and why). */
async function readTokens(o: OathEnrollOptions, warn: (line: string) => void): Promise<TokenParameters[]> {
  const oath = await import("@capkit/oath");
  if (o.uri !== undefined) {
    const token = oath.tokenFromOtpAuth(await readSecretArgument(o.uri, "--uri"));
    if (o.ocra === undefined) return [token];
    // An otpauth URI has no OCRA type: --ocra says which suite its secret answers with.
    const suite = oath.parseOcraSuite(o.ocra);
    return [
      oath.checkToken({
        kind: "ocra",
        secret: token.secret,
        algorithm: suite.algorithm,
        digits: suite.digits,
        suite: suite.text,
        ...(suite.counter ? { counter: 0 } : {}),
      }),
    ];
  }
  if (o.ocra !== undefined)
    throw usage("--ocra is for --uri", "a PSKC file names each key's kind and OCRA suite itself");
  // A key or password on the command line may be - (standard input) or @FILE, as oathtool takes them.
  const password = o.passwordStdin ? await readPin(true, "PSKC password: ", "--password-stdin") : undefined;
  const psk = o.pskHex === undefined ? undefined : await readSecretArgument(o.pskHex, "--psk-hex");
  const { keys, warnings } = await oath.importPskcAsync(readText(o.pskc!), {
    ...(psk !== undefined ? { preSharedKey: fromHex(psk, "--psk-hex") } : {}),
    ...(password !== undefined ? { password } : {}),
  });
  for (const w of warnings) warn(`${o.pskc}: ${w}`);
  return oath.tokensFromPskc(keys);
}

/**
 * The credential ids: `--id` for a single token; for a file of several, each key's serial (else its key Id),
 * which are how a bank finds a hardware token again.
 */
function credentialIds(tokens: TokenParameters[], o: OathEnrollOptions): string[] {
  if (tokens.length === 1) {
    const id = o.id ?? tokens[0]!.serial ?? tokens[0]!.keyId;
    if (id === undefined) throw usage("give --id: the key has no serial or Id to be enrolled under");
    return [id];
  }
  if (o.id !== undefined)
    throw usage(
      `--id names one credential: this file holds ${tokens.length} keys`,
      "leave --id out to enrol each key under its serial number",
    );
  const ids = tokens.map((t, i) => {
    const id = t.serial ?? t.keyId;
    if (id === undefined || id === "")
      throw usage(`${label(t, i, tokens.length)} has no serial or Id to be enrolled under`);
    return id;
  });
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw usage(`two keys of the file have the serial ${twice}`);
  return ids;
}

async function mustBeFree(verifier: Verifier, id: string, which: string): Promise<void> {
  try {
    await verifier.status(id);
  } catch (e) {
    if (e instanceof CapkitError && e.code === "CREDENTIAL_UNKNOWN") return;
    throw e;
  }
  throw new CapkitError("CREDENTIAL_EXISTS", `${which}: ${id} is already enrolled; nothing was enrolled`, {
    hint: "revoke it first, or enrol the new token with --replaces",
  });
}

/** "key 2 (serial 987654321)": which token an error is about, when there are several. */
function label(t: TokenParameters, i: number, count: number): string {
  const name = t.serial !== undefined ? `serial ${t.serial}` : t.keyId !== undefined ? `Id ${t.keyId}` : "";
  if (count === 1) return name ? `the key (${name})` : "the key";
  return name ? `key ${i + 1} (${name})` : `key ${i + 1}`;
}

/** The verifier's enrolment for a token: every parameter the token has, none guessed. */
function enrollRequest(t: TokenParameters, id: string, o: OathEnrollOptions, which: string): EnrollRequest {
  if (t.kind === "ocra") {
    // The verifier starts an OCRA counter at 0 and looks ahead from there; a later one would never be found.
    if ((t.counter ?? 0) !== 0)
      throw usage(`${which}: OCRA counter ${t.counter}: capkit verify starts OCRA counters at 0`);
    return { id, kind: "ocra", secret: t.secret, suite: t.suite! };
  }
  const common = { id, secret: t.secret, algorithm: t.algorithm, digits: t.digits };
  if (t.kind === "hotp") return { ...common, kind: "hotp", counter: t.counter ?? 0 };
  return {
    ...common,
    kind: "totp",
    step: t.step ?? 30,
    t0: t.t0 ?? 0,
    ...(o.followDrift ? { followDrift: true } : {}),
  };
}

/**
 * What `capkit verify enroll` prints: for one credential `{ enrolled, kind, serial? }` (as for a card); for a
 * file of several, `{ enrolled: [ids], credentials: [{ id, kind, serial? }] }`; and the file's `warnings`, if
 * any (in human output, on standard error).
 */
export function printEnrollment(out: Output, { enrolled, warnings }: OathEnrollment): void {
  for (const w of warnings) out.info(`warning: ${w}`);
  const notes = warnings.length ? { warnings } : {};
  const line = (e: EnrolledToken) =>
    `enrolled ${e.id} (${e.kind}${e.serial !== undefined && e.serial !== e.id ? `, serial ${e.serial}` : ""})`;
  if (enrolled.length === 1) {
    const e = enrolled[0]!;
    out.result(
      { enrolled: e.id, kind: e.kind, ...(e.serial !== undefined ? { serial: e.serial } : {}), ...notes },
      () => line(e),
    );
  } else {
    out.result({ enrolled: enrolled.map((e) => e.id), credentials: enrolled, ...notes }, () =>
      enrolled.map(line).join("\n"),
    );
  }
}
