import { CapkitError } from "@capkit/core";

/**
 * What a STORE_UNAVAILABLE promises (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Honest outcomes"), in one place for every store.
 *
 * - Nothing was done: the store could not be reached, refused the write before committing (busy, locked,
 *   read-only, disk full), or cancelled the statement itself (a lock or statement timeout). Retrying is safe.
 * - The outcome is unknown: the write reached the database and the answer did not come back — a connection
 *   cut, a server crash, a client-side timeout during a network partition, an I/O error while committing. The
 *   write may have committed. The caller retries the same request: a verification that did commit answers
 *   `accepted` again when the retry carries the same `requestId` (and `rejected` with `replayed: true` when it
 *   does not); either way no code is accepted twice. `details.outcome` says which of the two it is.
 */
export function nothingDone(message: string, cause: unknown): CapkitError {
  return new CapkitError("STORE_UNAVAILABLE", message, {
    hint: "nothing was accepted; retry when the database is back",
    details: { outcome: "nothing done" },
    cause,
  });
}

export function outcomeUnknown(message: string, cause: unknown): CapkitError {
  return new CapkitError("STORE_UNAVAILABLE", message, {
    hint:
      "the outcome is unknown: the database may have committed before the error. Retry the same request " +
      "with the same requestId: an accept that committed answers accepted again; a code is never accepted twice",
    details: { outcome: "unknown" },
    cause,
  });
}
