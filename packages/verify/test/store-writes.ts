import type { StateStore } from "../src/index.js";

/** The StateStore methods that write: a refusal at the Verifier's door must come before any is called. */
export const STORE_WRITES: ReadonlySet<string> = new Set([
  "enroll",
  "addUser",
  "accept",
  "fail",
  "succeed",
  "unlock",
  "setState",
  "revoke",
  "addChallenge",
  "takeChallenge",
  "reseal",
  "record",
  "pruneAudit",
  "addCheckpoint",
]);

/** `store`, calling `onWrite` before each of its writers runs (what the door let through, counted). */
export function watchWrites<S extends StateStore>(store: S, onWrite: () => void): S {
  return new Proxy(store, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (typeof v !== "function") return v;
      return (...a: unknown[]) => {
        if (STORE_WRITES.has(String(p))) onWrite();
        return v.apply(t, a);
      };
    },
  });
}
