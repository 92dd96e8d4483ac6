/**
 * Adds a challenge to an in-memory table kept bounded (the memory stores' challenges and login challenges):
 * expired ones are deleted, and the oldest of the same credential's beyond `maxPerCredential`, so a flood of
 * issued challenges never grows the table.
 */
export function addBoundedChallenge<C extends { id: string; credentialId: string; expiresAt: number }>(
  table: Map<string, C>,
  challenge: C,
  maxPerCredential: number,
  now: number,
): void {
  const mine: C[] = [];
  for (const [k, ch] of table) {
    if (ch.expiresAt <= now) table.delete(k);
    else if (ch.credentialId === challenge.credentialId) mine.push(ch);
  }
  mine.sort((a, b) => a.expiresAt - b.expiresAt);
  for (const ch of mine.slice(0, Math.max(0, mine.length - maxPerCredential + 1))) table.delete(ch.id);
  table.set(challenge.id, challenge);
}
