import { CapkitError } from "@capkit/core";
import type { KeyProvider, SealedUse } from "./key-provider.js";
import type { AuditEntry, CredentialParams, SealedState, StateStore, StoredCredential } from "./model.js";

/** How `Verifier.rekey` runs. */
export interface RekeyOptions {
  /** Who runs the rotation (the audit names them). */
  readonly actor?: string;
  /** Credentials read per page (default 200). */
  readonly pageSize?: number;
  /** Called after each page: how far it has got (a long rotation reports progress). */
  readonly onProgress?: (progress: RekeyReport) => void;
  /** The clock of the audit entries (ms since the epoch); the Verifier passes its own. */
  readonly now?: () => number;
}

/** What a key rotation did: how many credentials it re-sealed, how many were already under the current key. */
export interface RekeyReport {
  /** Credentials re-sealed under the current key by this run. */
  readonly resealed: number;
  /** Credentials found already under it (a run resumed after a crash skips them). */
  readonly current: number;
  /** The key everything is now sealed under. */
  readonly keyId: string;
}

/**
 * Key rotation (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.1): every credential whose sealed key material or sealed PAN is under
 * another key than the provider's current one — or whose PAN is still in clear, from before PANs were sealed —
 * is re-sealed under the current key, one compare-and-set per credential with its audit entry. Online: the
 * version does not change, so verifications go on with their cached engines and never wait for it; a
 * credential changed in between (enrolled again, revoked) is read again. Resumable: a run stopped at any point
 * (SIGKILL included) leaves each credential either under the old key or the new one, and the next run re-seals
 * what is left.
 */
export async function rekeyCredentials(
  store: StateStore,
  keys: KeyProvider,
  options: RekeyOptions = {},
): Promise<RekeyReport> {
  const keyId = keys.currentKeyId;
  const limit = Math.max(1, Math.min(1000, Math.trunc(options.pageSize ?? 200)));
  const now = options.now ?? Date.now;
  let resealed = 0;
  let current = 0;
  let after: string | undefined;
  for (;;) {
    const page = await store.list({ limit, ...(after !== undefined ? { after } : {}) });
    for (const listed of page) {
      let c: StoredCredential | undefined = listed;
      for (let tries = 0; c; tries++) {
        const next = await nextSealedState(c, keys, keyId);
        if (!next) {
          current++;
          break;
        }
        const from = [
          ...new Set(sealedValues(c).map((v) => (v === CLEAR ? "PAN in clear" : keys.keyIdOf(v)))),
        ];
        const audit: AuditEntry = {
          at: now(),
          credentialId: c.id,
          action: "rekey",
          result: "ok",
          detail: `${from.join(", ")} → ${keyId}`,
          ...(c.user !== undefined ? { user: c.user } : {}),
          ...(options.actor !== undefined ? { actor: options.actor } : {}),
        };
        if (await store.reseal(c.id, { sealed: c.sealed, params: c.params }, next, audit)) {
          resealed++;
          break;
        }
        if (tries >= 3)
          throw new CapkitError("STORE_UNAVAILABLE", `credential ${c.id} kept changing during the rotation`, {
            hint: "run the rotation again: it resumes where it stopped",
          });
        c = await store.get(c.id); // changed meanwhile (or revoked: then there is nothing to re-seal)
      }
    }
    options.onProgress?.({ resealed, current, keyId });
    if (page.length < limit) return { resealed, current, keyId };
    after = page[page.length - 1]!.id;
  }
}

const CLEAR = Symbol("PAN in clear");

/** The sealed values of a credential: its key material, and a CAP card's PAN (`CLEAR` when not sealed yet). */
function sealedValues(c: StoredCredential): (string | typeof CLEAR)[] {
  const out: (string | typeof CLEAR)[] = [];
  if (c.sealed !== undefined) out.push(c.sealed);
  if (c.params.kind === "cap") {
    const pan = c.params.record.pan;
    out.push(typeof pan === "string" ? CLEAR : pan.sealed);
  }
  return out;
}

/** The credential's sealed state under the current key, or undefined when it is there already. */
async function nextSealedState(
  c: StoredCredential,
  keys: KeyProvider,
  keyId: string,
): Promise<SealedState | undefined> {
  const stale = (v: string | undefined) => v !== undefined && keys.keyIdOf(v) !== keyId;
  const use: SealedUse = c.params.kind === "cap" ? "issuer-key" : "hmac";
  let params: CredentialParams = c.params;
  let changed = false;
  if (params.kind === "cap") {
    const pan = params.record.pan;
    if (typeof pan === "string" || stale(pan.sealed)) {
      const sealed =
        typeof pan === "string"
          ? await keys.seal(c.id, "pan", Buffer.from(pan, "ascii"))
          : await keys.reseal(c.id, "pan", pan.sealed);
      params = { ...params, record: { ...params.record, pan: { sealed } } };
      changed = true;
    }
  }
  let sealed = c.sealed;
  if (stale(sealed)) {
    sealed = await keys.reseal(c.id, use, sealed!);
    changed = true;
  }
  return changed ? { sealed, params } : undefined;
}
