import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { CapkitError, fromBase64, fromHex, toBase64 } from "@capkit/core";
import { type CapIssuerRecord, deriveIccMasterKey, testIccMasterKey } from "@capkit/emv-cap";

/**
 * Where keys live and are used. The verifier never stores a secret in clear: OATH secrets are sealed by the
 * provider at enrolment and unsealed only to compute; CAP records name an issuer key the provider holds. An
 * HSM-backed provider implements the same three methods.
 */
export interface KeyProvider {
  /** Protects an OATH secret for storage, bound to the credential id. */
  seal(credentialId: string, secret: Uint8Array): Promise<string>;
  unseal(credentialId: string, sealed: string): Promise<Uint8Array>;
  /** The ICC master key for a CAP card. */
  iccMasterKey(record: CapIssuerRecord): Promise<Uint8Array>;
}

export interface SoftwareKeyMaterial {
  /** 32-byte AES-256-GCM key sealing OATH secrets (hex). */
  readonly masterKey: string;
  /** Issuer master keys by reference (hex, 16 bytes) for CAP records with `key.kind: "reference"`. */
  readonly issuerKeys?: Readonly<Record<string, string>>;
  /** Accept CAP records carrying a test IMK in clear (simulated cards). Off in production. */
  readonly allowTestKeys?: boolean;
}

const SEAL_VERSION = "v1";

/**
 * Keys in this process's memory, loaded from a JSON file or the CAPKIT_KEYS environment variable. Secrets
 * never appear in errors or logs: messages name the credential or the reference, nothing else.
 */
export class SoftwareKeyProvider implements KeyProvider {
  readonly #master: Uint8Array;
  readonly #issuer: Map<string, Uint8Array>;
  readonly #allowTest: boolean;

  constructor(material: SoftwareKeyMaterial) {
    const master = parseKey(material.masterKey, 32, "masterKey");
    this.#master = master;
    this.#issuer = new Map(
      Object.entries(material.issuerKeys ?? {}).map(([ref, hex]) => [
        ref,
        parseKey(hex, 16, `issuer key ${ref}`),
      ]),
    );
    this.#allowTest = material.allowTestKeys ?? false;
  }

  static fromFile(path: string): SoftwareKeyProvider {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new CapkitError(
        "KEY_INVALID",
        `cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
    return new SoftwareKeyProvider(parseMaterial(text, `key file ${path}`));
  }

  static fromEnv(name = "CAPKIT_KEYS"): SoftwareKeyProvider {
    const text = process.env[name];
    if (!text)
      throw new CapkitError("KEY_INVALID", `${name} is not set`, {
        hint: 'set it to {"masterKey":"<64 hex digits>"}',
      });
    return new SoftwareKeyProvider(parseMaterial(text, name));
  }

  /** Fresh random material (CSPRNG), e.g. for a new deployment or a demo. */
  static generateMaterial(options: { allowTestKeys?: boolean } = {}): SoftwareKeyMaterial {
    return {
      masterKey: randomBytes(32).toString("hex").toUpperCase(),
      ...(options.allowTestKeys ? { allowTestKeys: true } : {}),
    };
  }

  async seal(credentialId: string, secret: Uint8Array): Promise<string> {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.#master, iv);
    c.setAAD(Buffer.from(credentialId, "utf8"));
    const ct = Buffer.concat([c.update(secret), c.final()]);
    return `${SEAL_VERSION}:${toBase64(Buffer.concat([iv, ct, c.getAuthTag()]))}`;
  }

  async unseal(credentialId: string, sealed: string): Promise<Uint8Array> {
    const [version, body] = sealed.split(":");
    if (version !== SEAL_VERSION || !body)
      throw new CapkitError("KEY_INVALID", `credential ${credentialId}: unknown sealed format`);
    const raw = fromBase64(body);
    try {
      const d = createDecipheriv("aes-256-gcm", this.#master, raw.subarray(0, 12));
      d.setAAD(Buffer.from(credentialId, "utf8"));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return new Uint8Array(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]));
    } catch {
      throw new CapkitError(
        "KEY_INVALID",
        `credential ${credentialId}: its secret does not open with this master key`,
      );
    }
  }

  async iccMasterKey(record: CapIssuerRecord): Promise<Uint8Array> {
    if (record.key.kind === "test-imk") {
      if (!this.#allowTest) {
        throw new CapkitError(
          "KEY_INVALID",
          "this CAP record carries a test key in clear; allowTestKeys is off",
          {
            hint: "production records reference an issuer key held by the key provider",
          },
        );
      }
      return testIccMasterKey(record);
    }
    const imk = this.#issuer.get(record.key.id);
    if (!imk) throw new CapkitError("KEY_INVALID", `no issuer key "${record.key.id}" in the key provider`);
    return deriveIccMasterKey(imk, record.pan, record.psn, "A");
  }
}

function parseKey(hex: unknown, length: number, what: string): Uint8Array {
  if (typeof hex !== "string" || hex.length !== 2 * length)
    throw new CapkitError("KEY_INVALID", `${what} must be ${length} bytes of hex`);
  return fromHex(hex, what);
}

function parseMaterial(text: string, where: string): SoftwareKeyMaterial {
  try {
    return JSON.parse(text) as SoftwareKeyMaterial;
  } catch {
    throw new CapkitError("KEY_INVALID", `${where} is not valid JSON`);
  }
}
