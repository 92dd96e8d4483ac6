import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Passwords hashed with scrypt (RFC 7914), a memory-hard KDF from node:crypto: N = 2^14, r = 8, p = 1 (16 MiB
 * per hash), a 16-byte random salt, a 32-byte key. The parameters are stored with the hash so they can grow.
 *
 * `check` runs exactly one scrypt whatever it is given: with no stored hash (an unknown identifiant, or a
 * customer who logs in with a device) it checks against a hash of a random password made at start, with the
 * same parameters, so the work does not tell a customer from a stranger.
 */
const PARAMS = { N: 1 << 14, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, { ...o, maxmem: 64 * 1024 * 1024 }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

async function hash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export class Passwords {
  readonly #stranger: string;

  private constructor(stranger: string) {
    this.#stranger = stranger;
  }

  static async create(): Promise<Passwords> {
    return new Passwords(await hash(randomBytes(16).toString("base64")));
  }

  hash(password: string): Promise<string> {
    return hash(password);
  }

  /** One scrypt, constant-time comparison; false for no hash (after the same work) or a malformed one. */
  async check(password: string, stored: string | undefined): Promise<boolean> {
    const known = stored !== undefined && /^scrypt\$\d+\$\d+\$\d+\$[\w+/=]+\$[\w+/=]+$/.test(stored);
    const [, n, r, p, salt, key] = (known ? stored : this.#stranger).split("$") as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const expected = Buffer.from(key, "base64");
    const actual = await derive(password, Buffer.from(salt, "base64"), {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    });
    return known && actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
