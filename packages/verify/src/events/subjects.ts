import { CapkitError } from "@capkit/core";

/**
 * Subjects and their epochs (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12.3). A subject is whom a security event is about: a user,
 * an account (several users under one subscription) or a professional contract. Each carries one integer
 * epoch per class of thing it revokes; whatever is created for a subject — a device registered for approvals,
 * a session, a grant, an operation — is stamped with the subject's epoch of its class, and is valid only while
 * that epoch is still the subject's. An event moves epochs on in the same atomic write as its audit row, so every
 * server instance refuses what was stamped before it on its next check, with no list of sessions or devices to
 * walk: the pattern of the verifier's credential versions (§6).
 */
export type SubjectKind = "user" | "account" | "contract";
/** Every subject kind. */
export const SUBJECT_KINDS: readonly SubjectKind[] = ["user", "account", "contract"];

/** Whom a security event is about, and what a stamp names. */
export interface Subject {
  /** A user, an account or a professional contract. */
  readonly kind: SubjectKind;
  /** 1–128 letters, digits or `. @ : + - _` (the verifier's ids). */
  readonly id: string;
}

/** The classes of things an epoch stamps: each event moves on the classes it revokes (src/events/revocations.ts). */
export type EpochClass = "device" | "session" | "grant" | "operation";
/** Every epoch class. */
export const EPOCH_CLASSES: readonly EpochClass[] = ["device", "session", "grant", "operation"];

/** A subject's epochs, by class; a subject no event ever touched is at 0 in every class. */
export type Epochs = Readonly<Record<EpochClass, number>>;
export const ZERO_EPOCHS: Epochs = Object.freeze({ device: 0, session: 0, grant: 0, operation: 0 });

/** One line of a stamp: the epoch of one class of one subject when the thing was created. */
export interface StampEntry extends Subject {
  /** Which class of the subject's epochs. */
  readonly class: EpochClass;
  /** That epoch when the thing was created. */
  readonly epoch: number;
}

/**
 * What a caller keeps with a thing it made (a session row, a ticket): its subjects' epochs at creation. It is
 * valid while every entry still holds (`SecurityEvents.valid`, one store read). Plain JSON.
 */
export type Stamp = readonly StampEntry[];

/** The most entries a stamp may have (a session through the passerelle: two users and a contract, per class). */
export const MAX_STAMP_ENTRIES = 16;

const ID = /^[\w.@:+-]{1,128}$/;

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

/** An id as the verifier takes one, or INPUT_INVALID naming `what`. */
export function checkSubjectId(id: unknown, what: string): string {
  if (typeof id !== "string" || !ID.test(id))
    throw invalid(`${what} is 1–128 letters, digits or . @ : + - _`);
  return id;
}

/** A subject at the door: a fresh object holding only its checked kind and id. */
export function checkSubject(value: unknown, what = "the subject"): Subject {
  if (typeof value !== "object" || value === null) throw invalid(`${what} is { kind, id }`);
  const { kind, id } = value as Record<string, unknown>;
  if (typeof kind !== "string" || !SUBJECT_KINDS.includes(kind as SubjectKind))
    throw invalid(`${what}'s kind is one of ${SUBJECT_KINDS.join(", ")}`);
  return { kind: kind as SubjectKind, id: checkSubjectId(id, `${what}'s id`) };
}

export function checkEpochClass(value: unknown): EpochClass {
  if (typeof value !== "string" || !EPOCH_CLASSES.includes(value as EpochClass))
    throw invalid(`an epoch class is one of ${EPOCH_CLASSES.join(", ")}`);
  return value as EpochClass;
}

/** A stamp at the door (it comes back from a session row, a cookie's server side, a ticket). */
export function checkStamp(value: unknown): Stamp {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_STAMP_ENTRIES)
    throw invalid(`a stamp is a list of 1 to ${MAX_STAMP_ENTRIES} entries`);
  return value.map((e, i) => {
    const s = checkSubject(e, `stamp[${i}]`);
    const { class: cls, epoch } = e as Record<string, unknown>;
    if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0)
      throw invalid(`stamp[${i}].epoch is a whole number`);
    return { ...s, class: checkEpochClass(cls), epoch };
  });
}

/** The key a subject is held under in maps: kind and id, which no id can forge (ids have no NUL). */
export function subjectKey(s: Subject): string {
  return `${s.kind}\0${s.id}`;
}

/** Whether every entry of the stamp is still its subject's epoch (`epochsOf` in the stamp's order). */
export function stampHolds(stamp: Stamp, epochs: readonly Epochs[]): boolean {
  return stamp.every((e, i) => epochs[i]![e.class] === e.epoch);
}
