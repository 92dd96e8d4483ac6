import { writeFileSync } from "node:fs";
import { fromHex, toHex } from "@capkit/core";
import type { TokenParameters } from "@capkit/oath";
import type { Command } from "commander";
import { type Run, usage } from "../shared/output.js";
import * as oath from "./otp-codes.js";

interface KeyOptions {
  secretHex?: string;
  secret?: string;
  uri?: string;
  algorithm?: string;
  digits?: string;
  hotp?: boolean;
  totp?: boolean;
  counter?: string;
  time?: string;
  step?: string;
  ocra?: string;
  challenge?: string;
  allowShortSecret?: boolean;
}

function keyOptions(cmd: Command): Command {
  return cmd
    .option("--secret-hex <hex>", "the seed in hex; - reads it from standard input, @FILE from a file")
    .option("--secret <base32>", "the seed in base32 (spaces and lower case are fine); - or @FILE too")
    .option(
      "--uri <otpauth-uri>",
      "an otpauth:// URI (type, secret, digits, algorithm, period, counter); - or @FILE too",
    )
    .option("--hotp", "HOTP (RFC 4226): counter-based")
    .option("--totp", "TOTP (RFC 6238): time-based (default)")
    .option("--counter <n>", "HOTP counter")
    .option("--time <unix>", "TOTP: Unix time in seconds (default: now)")
    .option("--step <seconds>", "TOTP step (default 30)")
    .option("--digits <n>", "6 to 10 (default 6, or the URI's)")
    .option("--algorithm <name>", "SHA1 | SHA256 | SHA512")
    .option("--ocra <suite>", "OCRA suite (RFC 6287), e.g. OCRA-1:HOTP-SHA1-6:QN08")
    .option("--challenge <q>", "OCRA challenge")
    .option("--allow-short-secret", "accept a secret shorter than 128 bits (old 80-bit hardware seeds)");
}

const int = (v: string | undefined, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw usage(`${what} must be a whole number`);
  return Number(v);
};

/** The key the options name; a URI is read by @capkit/oath's token parameters, and options given override it. */
async function resolveKey(o: KeyOptions) {
  const given = [o.secretHex, o.secret, o.uri].filter((x) => x !== undefined).length;
  if (given !== 1) throw usage("give the key once: --secret-hex, --secret or --uri");
  // As oathtool takes its KEY: - (standard input) or @FILE keeps the seed out of ps and the shell's history.
  const { readSecretArgument } = await import("../shared/input.js");
  const secretHex =
    o.secretHex === undefined ? undefined : await readSecretArgument(o.secretHex, "--secret-hex");
  const secretB32 = o.secret === undefined ? undefined : await readSecretArgument(o.secret, "--secret");
  const uri = o.uri === undefined ? undefined : await readSecretArgument(o.uri, "--uri");
  if (o.hotp && o.totp) throw usage("choose --hotp or --totp");
  const keyOpts = o.allowShortSecret ? { allowShortSecret: true } : {};
  let secret: Uint8Array;
  let kind: "hotp" | "totp" = o.hotp ? "hotp" : "totp";
  let algorithm = o.algorithm ? oath.parseAlgorithm(o.algorithm) : "SHA1";
  let digits = int(o.digits, "--digits") ?? 6;
  let step = int(o.step, "--step") ?? 30;
  let counter = int(o.counter, "--counter");
  if (uri !== undefined) {
    const t = oath.tokenFromOtpAuth(uri, keyOpts);
    if (t.kind === "ocra") throw usage("an otpauth URI is HOTP or TOTP");
    secret = t.secret;
    kind = t.kind;
    algorithm = o.algorithm ? algorithm : t.algorithm;
    digits = int(o.digits, "--digits") ?? t.digits;
    step = int(o.step, "--step") ?? t.step ?? 30;
    counter = counter ?? t.counter;
  } else if (secretHex !== undefined) {
    secret = fromHex(secretHex, "--secret-hex");
  } else {
    secret = oath.base32Decode(secretB32!);
  }
  return { oath, secret, kind, algorithm, digits, step, counter, keyOpts };
}

export function registerOtp(program: Command, run: Run): void {
  const otp = program
    .command("otp")
    .description("OATH one-time passwords: HOTP, TOTP, OCRA, otpauth URIs, PSKC");

  keyOptions(otp.command("generate").description("compute a code")).action((o: KeyOptions) =>
    run(async (out) => {
      const k = await resolveKey(o);
      let code: string;
      if (o.ocra) {
        if (!o.challenge) throw usage("--ocra needs --challenge");
        const ocra = new k.oath.Ocra(o.ocra, k.secret, k.keyOpts);
        code = ocra.response({
          challenge: o.challenge,
          ...(ocra.suite.counter ? { counter: k.counter ?? 0 } : {}),
          ...(ocra.suite.timeStep ? { time: int(o.time, "--time") ?? Date.now() / 1000 } : {}),
        });
      } else {
        const gen = new k.oath.HotpGenerator(new k.oath.HmacKey(k.secret, k.algorithm, k.keyOpts), k.digits);
        if (k.kind === "hotp") {
          if (k.counter === undefined) throw usage("HOTP needs --counter");
          code = gen.code(k.counter);
        } else {
          code = gen.code(
            k.oath.totpStep(int(o.time, "--time") ?? Math.floor(Date.now() / 1000), { step: k.step }),
          );
        }
      }
      out.result({ code }, code);
      return 0;
    }),
  );

  keyOptions(
    otp
      .command("verify")
      .description("check a code (no state: use `capkit verify` for one-time use and lockout)"),
  )
    .requiredOption("--code <code>", "the code to check")
    .option("--window <n>", "TOTP steps either side, HOTP look-ahead", "1")
    .action((o: KeyOptions & { code: string; window: string }) =>
      run(async (out) => {
        const k = await resolveKey(o);
        const gen = new k.oath.HotpGenerator(new k.oath.HmacKey(k.secret, k.algorithm, k.keyOpts), k.digits);
        const w = int(o.window, "--window")!;
        const code = o.code.replace(/\s+/g, "");
        const m =
          k.kind === "hotp"
            ? k.oath.matchHotp(gen, code, k.counter ?? 0, w)
            : k.oath.matchTotp(gen, code, int(o.time, "--time") ?? Date.now() / 1000, {
                step: k.step,
                past: w,
                future: w,
              });
        out.result({ valid: m !== undefined, ...(m ?? {}) }, m ? `valid (${JSON.stringify(m)})` : "invalid");
        return m ? 0 : 1;
      }),
    );

  otp
    .command("uri")
    .description("build an otpauth:// URI (or read one with --parse)")
    .option("--parse <uri>", "show what a URI holds")
    .option("--secret-hex <hex>", "the seed in hex; - reads it from standard input, @FILE from a file")
    .option("--secret <base32>", "the seed in base32; - or @FILE too")
    .option("--generate", "a fresh random 160-bit seed (CSPRNG)")
    .option("--account <name>", "the account label")
    .option("--issuer <name>", "the issuer")
    .option("--hotp", "HOTP instead of TOTP")
    .option("--counter <n>", "HOTP counter", "0")
    .option("--digits <n>", "6 to 10", "6")
    .option("--period <s>", "TOTP step", "30")
    .option("--algorithm <name>", "SHA1 | SHA256 | SHA512", "SHA1")
    .action((o: Record<string, string | boolean | undefined>) =>
      run(async (out) => {
        if (typeof o["parse"] === "string") {
          const k = oath.parseOtpAuthUri(o["parse"]);
          const shown = { ...k, secret: oath.base32Encode(k.secret) };
          out.result(shown, () =>
            Object.entries(shown)
              .map(([a, b]) => `${a}: ${b}`)
              .join("\n"),
          );
          return 0;
        }
        const { randomBytes } = await import("node:crypto");
        const { readSecretArgument } = await import("../shared/input.js");
        const secret =
          typeof o["secretHex"] === "string"
            ? fromHex(await readSecretArgument(o["secretHex"], "--secret-hex"), "--secret-hex")
            : typeof o["secret"] === "string"
              ? oath.base32Decode(await readSecretArgument(o["secret"], "--secret"))
              : o["generate"]
                ? new Uint8Array(randomBytes(20))
                : undefined;
        if (!secret) throw usage("give --secret-hex, --secret or --generate");
        if (typeof o["account"] !== "string") throw usage("--account is required");
        const type = o["hotp"] ? "hotp" : "totp";
        const uri = oath.buildOtpAuthUri({
          type,
          secret,
          account: o["account"],
          ...(typeof o["issuer"] === "string" ? { issuer: o["issuer"] } : {}),
          algorithm: oath.parseAlgorithm(String(o["algorithm"])),
          digits: int(String(o["digits"]), "--digits")!,
          ...(type === "totp"
            ? { period: int(String(o["period"]), "--period")! }
            : { counter: int(String(o["counter"]), "--counter")! }),
        });
        out.result({ uri }, uri);
        return 0;
      }),
    );

  otp
    .command("import <file>")
    .description("read a PSKC (RFC 6030) file")
    .option("--psk-hex <hex>", "the pre-shared key for an encrypted file; - or @FILE reads it")
    .option("--password-stdin", "read the PBKDF2 password from standard input")
    .option("--show-secrets", "print the secrets (hex); hidden by default")
    .action((file: string, o: { pskHex?: string; passwordStdin?: boolean; showSecrets?: boolean }) =>
      run(async (out) => {
        const { importPskcAsync, tokenFromPskcKey } = await import("@capkit/oath");
        const { readPin, readSecretArgument, readText } = await import("../shared/input.js");
        const xml = readText(file);
        const password = o.passwordStdin ? await readPin(true, undefined, "--password-stdin") : undefined;
        const psk = o.pskHex === undefined ? undefined : await readSecretArgument(o.pskHex, "--psk-hex");
        const r = await importPskcAsync(xml, {
          ...(psk ? { preSharedKey: fromHex(psk, "--psk-hex") } : {}),
          ...(password !== undefined ? { password } : {}),
        });
        // Each key as the token it means (what `verify enroll --pskc` would enrol), or why it is none.
        const rows = r.keys.map((key, i) => {
          const { secret, ...rest } = key;
          const shown = { ...rest, secret: secret ? (o.showSecrets ? toHex(secret) : "(hidden)") : null };
          const where = `${key.id} ${key.serialNo ? `serial ${key.serialNo} ` : ""}`;
          try {
            const { secret: _, ...token } = tokenFromPskcKey(key, { allowShortSecret: true }, i);
            const step = token.step !== undefined ? ` step ${token.step} s` : "";
            const counter = token.counter !== undefined ? ` counter ${token.counter}` : "";
            const what = `${token.kind} ${token.suite ?? token.algorithm} ${token.digits} digits${step}${counter}`;
            return { json: { ...shown, token }, human: `${where}${what} secret ${shown.secret}` };
          } catch (e) {
            const notAToken = (e as Error).message;
            return { json: { ...shown, notAToken }, human: `${where}not a token: ${notAToken}` };
          }
        });
        out.result({ keys: rows.map((k) => k.json), warnings: r.warnings }, () =>
          [...r.warnings.map((w) => `warning: ${w}`), ...rows.map((k) => k.human)].join("\n"),
        );
        return 0;
      }),
    );

  keyOptions(
    otp
      .command("export")
      .description("write a PSKC file for one key (HOTP, TOTP, or OCRA with --ocra; the hash in <Suite>)"),
  )
    .requiredOption("--out <file>", "the PSKC file to write")
    .option("--id <id>", "key id", "1")
    .option("--serial <no>", "device serial number")
    .option("--psk-hex <hex>", "encrypt with this 16-byte pre-shared key (AES-128-CBC); - or @FILE reads it")
    .option("--key-name <name>", "the pre-shared key's name", "Pre-shared-key")
    .option("--password-stdin", "encrypt under a PBKDF2 password read from standard input")
    .action(
      (
        o: KeyOptions & {
          out: string;
          id: string;
          serial?: string;
          pskHex?: string;
          keyName: string;
          passwordStdin?: boolean;
        },
      ) =>
        run(async (out) => {
          const k = await resolveKey(o);
          const { exportPskc, pskcKeyOf, parseOcraSuite } = await import("@capkit/oath");
          const { readPin, readSecretArgument } = await import("../shared/input.js");
          const psk = o.pskHex === undefined ? undefined : await readSecretArgument(o.pskHex, "--psk-hex");
          const protection = psk
            ? ({ kind: "pre-shared-key", key: fromHex(psk, "--psk-hex"), keyName: o.keyName } as const)
            : o.passwordStdin
              ? ({ kind: "password", password: await readPin(true, undefined, "--password-stdin") } as const)
              : ({ kind: "none" } as const);
          // The token as @capkit/oath's token parameters, written by pskcKeyOf: the hash as <Suite>, an OCRA
          // key with its suite (RFC 6030 §4.3.4), so a reader (capkit, privacyIDEA) takes what was meant.
          const serial = o.serial ? { serial: o.serial } : {};
          let token: TokenParameters;
          if (o.ocra !== undefined) {
            if (o.algorithm !== undefined || o.digits !== undefined || o.hotp || o.totp)
              throw usage("--ocra's suite names the kind, algorithm and digits: leave out the others");
            const suite = parseOcraSuite(o.ocra);
            token = {
              kind: "ocra",
              secret: k.secret,
              algorithm: suite.algorithm,
              digits: suite.digits,
              suite: suite.text,
              ...(suite.counter ? { counter: k.counter ?? 0 } : {}),
              ...serial,
            };
          } else if (k.kind === "hotp") {
            token = {
              kind: "hotp",
              secret: k.secret,
              algorithm: k.algorithm,
              digits: k.digits,
              counter: k.counter ?? 0,
              ...serial,
            };
          } else {
            token = {
              kind: "totp",
              secret: k.secret,
              algorithm: k.algorithm,
              digits: k.digits,
              step: k.step,
              ...serial,
            };
          }
          const xml = exportPskc([pskcKeyOf(token, o.id)], protection);
          writeFileSync(o.out, xml, { mode: 0o600 });
          out.result(
            { written: o.out, protection: protection.kind, kind: token.kind, algorithm: token.algorithm },
            `wrote ${o.out} (${token.kind} ${token.suite ?? token.algorithm}, ${protection.kind})`,
          );
          return 0;
        }),
    );
}
