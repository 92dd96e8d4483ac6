import { writeFileSync } from "node:fs";
import { fromHex, toHex } from "@capkit/core";
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
    .option("--secret-hex <hex>", "the seed in hex")
    .option("--secret <base32>", "the seed in base32 (spaces and lower case are fine)")
    .option("--uri <otpauth-uri>", "an otpauth:// URI (type, secret, digits, algorithm, period, counter)")
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

async function resolveKey(o: KeyOptions) {
  const given = [o.secretHex, o.secret, o.uri].filter((x) => x !== undefined).length;
  if (given !== 1) throw usage("give the key once: --secret-hex, --secret or --uri");
  let secret: Uint8Array;
  let kind: "hotp" | "totp" = o.hotp ? "hotp" : "totp";
  let algorithm = o.algorithm ? oath.parseAlgorithm(o.algorithm) : "SHA1";
  let digits = int(o.digits, "--digits") ?? 6;
  let step = int(o.step, "--step") ?? 30;
  let counter = int(o.counter, "--counter");
  if (o.uri !== undefined) {
    const k = oath.parseOtpAuthUri(o.uri);
    secret = k.secret;
    kind = k.type;
    algorithm = o.algorithm ? algorithm : k.algorithm;
    digits = int(o.digits, "--digits") ?? k.digits;
    step = int(o.step, "--step") ?? k.period ?? 30;
    counter = counter ?? k.counter;
  } else if (o.secretHex !== undefined) {
    secret = fromHex(o.secretHex, "--secret-hex");
  } else {
    secret = oath.base32Decode(o.secret!);
  }
  if (o.hotp && o.totp) throw usage("choose --hotp or --totp");
  const keyOpts = o.allowShortSecret ? { allowShortSecret: true } : {};
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
    .option("--secret-hex <hex>", "the seed in hex")
    .option("--secret <base32>", "the seed in base32")
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
        const secret =
          typeof o["secretHex"] === "string"
            ? fromHex(o["secretHex"], "--secret-hex")
            : typeof o["secret"] === "string"
              ? oath.base32Decode(o["secret"])
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
    .option("--psk-hex <hex>", "the pre-shared key for an encrypted file")
    .option("--password-stdin", "read the PBKDF2 password from standard input")
    .option("--show-secrets", "print the secrets (hex); hidden by default")
    .action((file: string, o: { pskHex?: string; passwordStdin?: boolean; showSecrets?: boolean }) =>
      run(async (out) => {
        const { importPskc } = await import("@capkit/oath");
        const { readPin, readText } = await import("../shared/input.js");
        const xml = readText(file);
        const password = o.passwordStdin ? await readPin(true) : undefined;
        const r = importPskc(xml, {
          ...(o.pskHex ? { preSharedKey: fromHex(o.pskHex, "--psk-hex") } : {}),
          ...(password !== undefined ? { password } : {}),
        });
        const keys = r.keys.map(({ secret, ...rest }) => ({
          ...rest,
          secret: secret ? (o.showSecrets ? toHex(secret) : "(hidden)") : null,
        }));
        out.result({ keys, warnings: r.warnings }, () =>
          keys
            .map(
              (k) =>
                `${k.id} ${k.type} ${k.serialNo ?? ""} digits ${k.responseLength ?? "?"} secret ${k.secret}`,
            )
            .join("\n"),
        );
        return 0;
      }),
    );

  keyOptions(otp.command("export").description("write a PSKC file for one key"))
    .requiredOption("--out <file>", "the PSKC file to write")
    .option("--id <id>", "key id", "1")
    .option("--serial <no>", "device serial number")
    .option("--psk-hex <hex>", "encrypt with this 16-byte pre-shared key (AES-128-CBC)")
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
          const { ALGORITHM_URIS, exportPskc } = await import("@capkit/oath");
          const { readPin } = await import("../shared/input.js");
          const protection = o.pskHex
            ? ({ kind: "pre-shared-key", key: fromHex(o.pskHex, "--psk-hex"), keyName: o.keyName } as const)
            : o.passwordStdin
              ? ({ kind: "password", password: await readPin(true) } as const)
              : ({ kind: "none" } as const);
          const xml = exportPskc(
            [
              {
                id: o.id,
                type: k.kind,
                algorithm: ALGORITHM_URIS[k.kind],
                secret: k.secret,
                responseLength: k.digits,
                responseEncoding: "DECIMAL",
                ...(k.kind === "hotp" ? { counter: k.counter ?? 0 } : { timeInterval: k.step }),
                ...(o.serial ? { serialNo: o.serial } : {}),
              },
            ],
            protection,
          );
          writeFileSync(o.out, xml, { mode: 0o600 });
          out.result({ written: o.out, protection: protection.kind }, `wrote ${o.out} (${protection.kind})`);
          return 0;
        }),
    );
}
