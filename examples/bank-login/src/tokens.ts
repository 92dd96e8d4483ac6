import { createHash, randomBytes } from "node:crypto";

/**
 * The random ids the bank hands to browsers in cookies (sessions, demo browsers): 256 bits from the CSPRNG.
 * The database keeps only their SHA-256 (`digest`), so reading it opens nothing.
 */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
