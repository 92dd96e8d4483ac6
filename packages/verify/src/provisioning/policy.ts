import { CapkitError, isRecord } from "@capkit/core";
import {
  type ActivationFeature,
  type ActivationPolicy,
  activationPolicy,
  type OtpParameters,
  startActivation,
} from "@capkit/provision";
import { parseAppVersion } from "./app-version.js";

/** What a bank sets for the activation of its in-app tokens (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11). */
export interface ProvisioningPolicyInput {
  /**
   * The activation's features: at least two, one of them a code the bank generates, never two through one
   * channel (PSD2 RTS Art. 25; `activationPolicy` of `@capkit/provision`). Default `["sms", "password"]`: a code by
   * SMS and the customer's banking password, as SogeSmart's « ACTIVATION SOGESMART » → « SMS REÇU ».
   */
  readonly features?: readonly ActivationFeature[];
  /**
   * The channel each feature travels by, when it is not the feature's own (two features through one channel
   * are refused: PSD2 RTS Art. 25(2)(c)(i)).
   */
  readonly channels?: Partial<Record<ActivationFeature, string>>;
  /** Seconds an activation lives (default 600: 10 minutes). */
  readonly ttl?: number;
  /** PAKE runs per activation code, one online guess each (default 5). */
  readonly maxTries?: number;
  /** The bank's SPAKE2 identity (its host name): the app must use the same. */
  readonly serverIdentity: string;
  /** The in-app token's TOTP (default SHA1, 6 digits, 30 s). */
  readonly otp?: OtpParameters;
  /** Activations started — codes sent — per identifiant in any 24 hours (default 3). */
  readonly startsPerDay?: number;
  /** Seconds between two starts for one identifiant (default 60). */
  readonly startIntervalSeconds?: number;
  /** Devices a user may have at once, one per slot (default 1: a new activation replaces the device). */
  readonly maxDevices?: number;
  /**
   * The oldest app version allowed: activations from an older app are refused, and an instance activated with
   * an older app must be reactivated (« la nouvelle version … oblige à recevoir un nouveau mot de passe par
   * SMS »): its logins answer `reactivation-required`, after its possession proof, counting nothing.
   */
  readonly minAppVersion?: string;
  /**
   * OneSpan's grace period: for this many seconds after an activation starts, the bank may let the customer in
   * with the password alone (`Provisioner.grace`), until a new instance's first accepted code ends it.
   * 0 (default): none.
   */
  readonly graceSeconds?: number;
  /** How long a login challenge lives, in seconds (default 120). */
  readonly loginChallengeSeconds?: number;
  /** The app's name at the head of the SMS (« SogeSmart : votre mot de passe d'activation est … »). */
  readonly appName?: string;
}

/** A {@link ProvisioningPolicyInput} checked, with its defaults: what the Provisioner applies. */
export interface ProvisioningPolicy {
  /** The protocol's policy (features, channels, ttl, maxTries), as `@capkit/provision` checked it. */
  readonly activation: ActivationPolicy;
  /** The bank's SPAKE2 identity. */
  readonly serverIdentity: string;
  /** The in-app token's TOTP parameters. */
  readonly otp: OtpParameters;
  /** Starts per identifiant in any 24 hours. */
  readonly startsPerDay: number;
  /** Seconds between two starts of one identifiant. */
  readonly startIntervalSeconds: number;
  /** Devices (slots) per user. */
  readonly maxDevices: number;
  /** The oldest app version allowed, as numbers; undefined: no floor. */
  readonly minAppVersion: readonly number[] | undefined;
  /** Seconds of grace after a start; 0: none. */
  readonly graceSeconds: number;
  /** Seconds a login challenge lives. */
  readonly loginChallengeSeconds: number;
  /** The app's name at the head of the SMS, if any. */
  readonly appName: string | undefined;
}

function refuse(message: string): CapkitError {
  return new CapkitError("ACTIVATION_POLICY_INVALID", message);
}

function integer(value: unknown, fallback: number, min: number, max: number, what: string): number {
  // Only a missing value takes the default: null is a value, and a wrong one.
  const v = value === undefined ? fallback : value;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw refuse(`${what} is an integer from ${min} to ${max}`);
  return v;
}

/**
 * Checks a policy once — the Provisioner does when it is made — with its defaults: every bound is an
 * ACTIVATION_POLICY_INVALID naming it (a string for a number, seconds given in milliseconds, one feature…).
 *
 * @param input - the bank's policy
 *
 * @example
 * ```ts
 * provisioningPolicy({ serverIdentity: "sogesmart.example", minAppVersion: "5.2" }).startsPerDay; // 3
 * provisioningPolicy({ serverIdentity: "sogesmart.example", ttl: 600_000 }); // ACTIVATION_POLICY_INVALID (seconds)
 * ```
 */
export function provisioningPolicy(input: ProvisioningPolicyInput): ProvisioningPolicy {
  if (!isRecord(input)) throw refuse("the policy is an object");
  const activation = activationPolicy({
    features: input.features === undefined ? ["sms", "password"] : input.features,
    ...(input.channels !== undefined ? { channels: input.channels } : {}),
    ...(input.ttl !== undefined ? { ttl: input.ttl } : {}),
    ...(input.maxTries !== undefined ? { maxTries: input.maxTries } : {}),
  });
  if (
    typeof input.serverIdentity !== "string" ||
    input.serverIdentity.length < 1 ||
    input.serverIdentity.length > 255
  )
    throw refuse("serverIdentity is the bank's name for SPAKE2, 1 to 255 characters");
  let minAppVersion: readonly number[] | undefined;
  if (input.minAppVersion !== undefined) {
    try {
      minAppVersion = parseAppVersion(input.minAppVersion, "minAppVersion");
    } catch (e) {
      throw refuse((e as Error).message);
    }
  }
  const appName = input.appName;
  if (appName !== undefined && (typeof appName !== "string" || !/^[\p{L}\p{N} '&.-]{1,32}$/u.test(appName)))
    throw refuse("appName is 1 to 32 letters, digits, spaces or ' & . -");
  const otp = input.otp === undefined ? { algorithm: "SHA1" as const, digits: 6, step: 30 } : input.otp;
  try {
    // The protocol's own check of the OTP parameters, once, here rather than at the first start.
    startActivation({
      policy: activation,
      serverIdentity: input.serverIdentity,
      serial: "P",
      instance: 1,
      now: 0,
      otp,
    });
  } catch (e) {
    throw refuse((e as Error).message);
  }
  return {
    activation,
    serverIdentity: input.serverIdentity,
    otp,
    startsPerDay: integer(input.startsPerDay, 3, 1, 100, "startsPerDay"),
    startIntervalSeconds: integer(input.startIntervalSeconds, 60, 0, 86_400, "startIntervalSeconds"),
    maxDevices: integer(input.maxDevices, 1, 1, 10, "maxDevices"),
    minAppVersion,
    graceSeconds: integer(input.graceSeconds, 0, 0, 30 * 86_400, "graceSeconds"),
    loginChallengeSeconds: integer(input.loginChallengeSeconds, 120, 10, 3600, "loginChallengeSeconds"),
    appName,
  };
}
