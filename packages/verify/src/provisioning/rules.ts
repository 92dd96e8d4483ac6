/**
 * The start's rules, applied by every provisioning store inside its transaction (so that they hold under any
 * concurrency): how often codes may be sent to one identifiant, and how serials and instance numbers are
 * handed out.
 */

const DAY_MS = 86_400_000;

/** Instance numbers of one serial: 1 to 99, as the protocol's (and OneSpan's sequence numbers). */
export const MAX_INSTANCE = 99;

/**
 * How often activation codes may be sent to one identifiant (`ProvisioningPolicyInput.startsPerDay` and
 * `startIntervalSeconds`): each code is an SMS the bank pays for and a message to the customer's phone, and
 * anyone who knows an identifiant can ask for one.
 */
export interface RateRule {
  /** Starts in any 24 hours. */
  readonly perDay: number;
  /** Milliseconds between two starts. */
  readonly intervalMs: number;
}

export type RateDecision =
  | { readonly ok: true; readonly sends: readonly number[] }
  | { readonly ok: false; readonly retryAfterMs: number };

/**
 * Whether one more start is allowed at `now`, given the times of the previous ones: fewer than `perDay` in the
 * 24 hours before `now` (a sliding window: never more than `perDay` in any 24 hours), and the last at least
 * `intervalMs` ago. `sends` keeps only what the window still needs.
 */
export function rateDecision(previous: readonly number[], now: number, rule: RateRule): RateDecision {
  const recent = previous.filter((t) => t > now - DAY_MS && t <= now).sort((a, b) => a - b);
  const last = recent[recent.length - 1];
  if (last !== undefined && now - last < rule.intervalMs)
    return { ok: false, retryAfterMs: last + rule.intervalMs - now };
  if (recent.length >= rule.perDay)
    return { ok: false, retryAfterMs: recent[recent.length - rule.perDay]! + DAY_MS - now };
  return { ok: true, sends: [...recent, now] };
}

/** The serial and instance of a new activation, and the user's next instance number after it. */
export function allocate(
  user: { readonly serial: string | undefined; readonly nextInstance: number } | undefined,
  newSerial: string,
): { serial: string; instance: number; nextInstance: number } {
  if (!user?.serial || user.nextInstance > MAX_INSTANCE)
    return { serial: newSerial, instance: 1, nextInstance: 2 };
  return { serial: user.serial, instance: user.nextInstance, nextInstance: user.nextInstance + 1 };
}

/**
 * The credential id of an in-app token's instance: `SERIAL.N`. The app knows both from its activation; it is the
 * id the app logs in with (`DeviceLogin.credential`), the verifier's credential id, and the one
 * `Approvals.registerDevice` and `Approvals.create` take for the app's device.
 *
 * @param serial - the user's in-app serial
 * @param instance - the instance number (1 to 99)
 *
 * @example
 * ```ts
 * credentialIdOf("SD1234567890123456", 2); // "SD1234567890123456.2"
 * ```
 */
export function credentialIdOf(serial: string, instance: number): string {
  return `${serial}.${instance}`;
}
