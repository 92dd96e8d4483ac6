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

/**
 * `target`, calling `onCall` with the method's name before each of its methods runs (on the target itself, so
 * its private fields work): what a door let through, seen.
 */
export function watchCalls<T extends object>(target: T, onCall: (method: string) => void): T {
  return new Proxy(target, {
    get(t, p) {
      const v: unknown = Reflect.get(t, p, t);
      if (typeof v !== "function") return v;
      return (...a: unknown[]) => {
        onCall(String(p));
        return Reflect.apply(v, t, a);
      };
    },
  });
}

/** `store`, calling `onWrite` before each of its writers runs (what the door let through, counted). */
export function watchWrites<S extends StateStore>(store: S, onWrite: () => void): S {
  return watchCalls(store, (method) => {
    if (STORE_WRITES.has(method)) onWrite();
  });
}
