import type { CapIssuerRecord } from "@capkit/emv-cap";
import { type SoftwareKeyMaterial, SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { SqliteStore } from "@capkit/verify/sqlite";

/**
 * Everything the bank asks of @capkit/verify, in one place: enrol a card or a token, check a login code,
 * issue a signing challenge, check a signature, unlock. The rest of the example never touches the verifier.
 * Credentials are enrolled for the bank's customer id, so the verifier counts failures and locks per customer
 * whichever of the customer's cards or tokens a code was for (a replacement card logs in the same way).
 */
export type CodeResult = "accepted" | "rejected" | "locked";

export class Codes {
  readonly #verifier: Verifier;
  readonly #store: SqliteStore;

  constructor(dbPath: string, keys: SoftwareKeyMaterial) {
    this.#store = new SqliteStore(dbPath);
    this.#verifier = new Verifier({ store: this.#store, keys: new SoftwareKeyProvider(keys) });
  }

  async enrollCard(user: string, id: string, record: CapIssuerRecord, lastAtc: number): Promise<void> {
    await this.#verifier.enroll({ id, user, kind: "cap", record, lastAtc });
  }

  async enrollTotp(user: string, id: string, secret: Uint8Array): Promise<void> {
    await this.#verifier.enroll({ id, user, kind: "totp", secret, digits: 6, step: 30 });
  }

  /** A login code (Sésame "CODE" function, or the SGpass code) against the customer's active credentials. */
  async checkLogin(user: string, code: string): Promise<CodeResult> {
    return (await this.#verifier.verify({ user, code })).result;
  }

  /** A fresh 8-digit challenge for the reader's SIGNATURE function, single use, expiring. */
  async issueSignChallenge(credential: string): Promise<{ challengeId: string; challenge: string }> {
    const c = await this.#verifier.issueChallenge(credential, "sign");
    return { challengeId: c.challengeId, challenge: c.challenge };
  }

  /** The reader's SIGNATURE code over the challenge and the amount (in cents, typed on the reader). */
  async checkSignature(
    credential: string,
    code: string,
    challengeId: string,
    cents: number,
  ): Promise<CodeResult> {
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
    return (
      await this.#verifier.verify({
        id: credential,
        code,
        function: "sign",
        challengeId,
        amount,
        currency: "978",
      })
    ).result;
  }

  /** The last ATC (card) or time step (token) the bank accepted. */
  async lastAccepted(credential: string): Promise<number> {
    return (await this.#verifier.status(credential)).last;
  }

  async unlock(user: string): Promise<void> {
    await this.#verifier.unlockUser(user);
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}
