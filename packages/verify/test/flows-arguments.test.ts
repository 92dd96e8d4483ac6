import type { CapkitErrorCode } from "@capkit/core";
import { isCapkitError } from "@capkit/core";
import {
  type ArgumentCase,
  type ArgumentPosition,
  checkArguments,
  integer,
  matching,
  never,
  oneOf,
  optional,
} from "@capkit/test-support/arguments";
import { describe, expect } from "vitest";
import { Approvals, Grants, MemorySecurityStore, SecurityEvents } from "../src/approvals.js";
import { MemoryStore } from "../src/index.js";
import {
  MemoryDevOutbox,
  MemoryProvisioningStore,
  Provisioner,
  parseAppVersion,
  provisioningPolicy,
} from "../src/provisioning.js";
import { appDevice, keypad, transfer, world } from "./approvals-world.js";
import { TestApp } from "./provisioning-app.js";
import { watchCalls } from "./store-writes.js";

/**
 * @capkit/verify/provisioning's and @capkit/verify/approvals' public methods as plain JavaScript calls them
 * (issue 21): a wrong type or unit in any argument or field — a number for a code, a string for a page size,
 * null for options, an object that is not a sender — is a typed CapkitError naming it, before anything is
 * counted or stored: every store the classes use is watched, and a refusal must not have called any of them.
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const POLICY: readonly CapkitErrorCode[] = ["ACTIVATION_POLICY_INVALID"];
const MESSAGE: readonly CapkitErrorCode[] = ["ACTIVATION_MESSAGE_INVALID"];
const OPERATION: readonly CapkitErrorCode[] = ["OPERATION_INVALID"];

/** Every call a refusal made to a store (the verifier's state, the provisioning and security stores). */
const calls: string[] = [];
/** The store, each of its methods logged as `name.method` when called. */
const watched = <T extends object>(store: T, name: string): T =>
  watchCalls(store, (method) => calls.push(`${name}.${method}`));
/** `new C(...args)` as plain JavaScript does, with the store log cleared first. */
const built =
  <T>(C: new (...a: never[]) => T) =>
  (...args: unknown[]) => {
    calls.length = 0;
    return Reflect.construct(C, args);
  };
const untouched = () => expect(calls, "a refused call reached a store").toEqual([]);
/** Calls `o[name]` as plain JavaScript does, with the store log cleared first. */
const method =
  (o: object, name: string) =>
  (...args: unknown[]) => {
    calls.length = 0;
    const f = (o as Record<string, (...a: unknown[]) => unknown>)[name]!;
    return Reflect.apply(f, o, args);
  };

// The verifier's state and the stores beside it, watched; one clock for all.
const state = new MemoryStore();
const w = world({
  store: watched(state, "state"),
  security: watched(new MemorySecurityStore(state), "security"),
});
const now = () => w.clock.now();
const provisioning = watched(new MemoryProvisioningStore(state), "provisioning");
const outbox = new MemoryDevOutbox({ now });
const PHONES: Record<string, string> = { alice: "+33600000001", carol: "+33600000002", dave: "+33600000003" };
const options = () => ({
  verifier: w.verifier,
  store: provisioning,
  keys: w.keys,
  policy: { serverIdentity: "sogesmart.example", startIntervalSeconds: 0, startsPerDay: 100, maxDevices: 2 },
  directory: async (user: string) => (PHONES[user] ? { phone: PHONES[user] } : undefined),
  sms: outbox,
  password: async (_user: string, candidate: string) => candidate === "secret",
  now,
});
const provisioner = new Provisioner(options());
for (const user of Object.keys(PHONES)) await w.verifier.addUser(user);

const smsCode = async (user: string) => {
  const [m] = await outbox.list({ to: PHONES[user]!, limit: 1 });
  return /(\d{4} \d{4})/.exec(m!.text)![1]!;
};
/** An activation from the app's side, to its end: the app logs in with its device from then on. */
const started = await provisioner.start({ user: "alice", appVersion: "5.2.0" });
await started.delivered;
const app = new TestApp();
const b1 = await provisioner.step(app.begin(started.offer, { sms: await smsCode("alice") }));
const b2 = await provisioner.step(await app.bind(b1.reply, "secret"));
const b4 = await provisioner.step(await app.activate(b2.reply, now()));
app.finish(b4.reply);
expect(b4.outcome).toBe("activated");
/** An a1 of another activation: a step the Provisioner answers. */
const daveStart = await provisioner.start({ user: "dave", appVersion: "5.2.0" });
await daveStart.delivered;
const a1 = new TestApp().begin(daveStart.offer, { sms: await smsCode("dave") });
const login = await app.login((await provisioner.issueLoginChallenge(app.credential)).challenge, now());

// Approvals: an app's device and an SGpass-style keypad, their operations; a grant and its consent.
const device = await appDevice(w);
const pad = await keypad(w);
const deviceOp = await device.operation();
const deviceDecision = await device.decide(deviceOp.digest);
const padOp = await w.approvals.create({
  document: transfer(w),
  user: pad.user,
  credential: pad.credential,
  method: "ocra",
});
const cancelOp = await device.operation();
const consent = await device.consent();
const grant = await w.grants.create({ kind: "passerelle", owner: device.user, target: pad.user });

const USER = /^[\w.@:+-]{1,128}$/;
const userId = matching(USER);
const isFunction = (x: unknown) => typeof x === "function";
const isRecord = (x: unknown) => Object.prototype.toString.call(x) === "[object Object]";
const wholeNumber = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
/** An object of options (or none) whose every named field is valid: any other value is refused. */
const recordWith =
  (fields: Record<string, (x: unknown) => boolean>) =>
  (x: unknown): boolean =>
    x === undefined ||
    (isRecord(x) && Object.entries(fields).every(([k, valid]) => valid((x as Record<string, unknown>)[k])));
const printable = matching(/^[\x21-\x7e]{1,256}$/);
const pageSize = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 1;
const words = matching(/^[^\p{Cc}]{1,200}$/u);
const OPERATION_ID = matching(/^[A-Za-z0-9_-]{1,64}$/);
/** `{ user }`, the session that asks: anything else is refused as itself or for its field. */
const askedAt = (arg: number): ArgumentPosition[] => [
  { arg, names: /^who asks /, codes: INPUT, valid: recordWith({ user: optional(userId) }), inner: INPUT },
  { arg, field: "user", names: /^the asking user /, codes: INPUT, valid: optional(userId) },
];
/** `{ state, after, limit }`-like paging options. */
const pageAt = (
  arg: number,
  after: RegExp,
  validAfter: (x: unknown) => boolean,
  more: Record<string, (x: unknown) => boolean> = {},
): ArgumentPosition[] => [
  {
    arg,
    names: /^the options /,
    codes: INPUT,
    valid: recordWith({ after: optional(validAfter), limit: optional(pageSize), ...more }),
    inner: INPUT,
  },
  { arg, field: "after", names: after, codes: INPUT, valid: optional(validAfter) },
  { arg, field: "limit", names: /^a page size /, codes: INPUT, valid: optional(pageSize) },
];
/** A constructor's options object: refused as itself, or for what is wrong inside it. */
const optionsAt = (names: RegExp, inner: readonly CapkitErrorCode[]): ArgumentPosition => ({
  arg: 0,
  names,
  codes: INPUT,
  valid: never,
  inner,
});

/** A policy's number of seconds (or a count) in [min, max]: milliseconds, strings, fractions are refused. */
const policyInteger = (field: string, min: number, max: number): ArgumentPosition => ({
  arg: 0,
  field,
  names: new RegExp(`^${field} `),
  codes: POLICY,
  valid: optional(integer(min, max)),
});
const POLICY_CASES: ArgumentCase[] = [
  {
    name: "provisioningPolicy(input)",
    args: () => [{ serverIdentity: "sogesmart.example", minAppVersion: "5.2", appName: "SogeSmart" }],
    call: (...a: unknown[]) => Reflect.apply(provisioningPolicy, undefined, a),
    positions: [
      { arg: 0, names: /^the policy /, codes: POLICY, valid: never, inner: POLICY },
      {
        arg: 0,
        field: "serverIdentity",
        names: /^serverIdentity /,
        codes: POLICY,
        valid: (x) => typeof x === "string" && x.length >= 1 && x.length <= 255,
      },
      {
        arg: 0,
        field: "features",
        names: /^the features /,
        codes: POLICY,
        valid: (x) => x === undefined,
        inner: POLICY,
      },
      { arg: 0, field: "ttl", names: /^ttl /, codes: POLICY, valid: optional(integer(60, 3600)) },
      { arg: 0, field: "maxTries", names: /^maxTries /, codes: POLICY, valid: optional(integer(1, 10)) },
      policyInteger("startsPerDay", 1, 100),
      policyInteger("startIntervalSeconds", 0, 86_400),
      policyInteger("maxDevices", 1, 10),
      policyInteger("graceSeconds", 0, 30 * 86_400),
      policyInteger("loginChallengeSeconds", 10, 3600),
      {
        arg: 0,
        field: "minAppVersion",
        names: /^minAppVersion /,
        codes: POLICY,
        valid: optional(matching(/^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$/)),
      },
      {
        arg: 0,
        field: "appName",
        names: /^appName /,
        codes: POLICY,
        valid: optional(matching(/^[\p{L}\p{N} '&.-]{1,32}$/u)),
      },
      {
        arg: 0,
        field: "otp",
        names: /^(the OTP parameters |OTP parameters: )/,
        codes: POLICY,
        valid: (x) => x === undefined,
        inner: POLICY,
      },
    ],
  },
  {
    name: "parseAppVersion(version)",
    args: () => ["5.2.0"],
    call: (...a: unknown[]) => Reflect.apply(parseAppVersion, undefined, a),
    positions: [
      {
        arg: 0,
        names: /^an app version /,
        codes: INPUT,
        valid: matching(/^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$/),
      },
    ],
  },
];

const OUTBOX: ArgumentCase[] = [
  {
    name: "new MemoryDevOutbox(options)",
    args: () => [{ capacity: 10, now }],
    call: built(MemoryDevOutbox),
    positions: [
      {
        arg: 0,
        names: /^the outbox options /,
        codes: INPUT,
        valid: recordWith({ capacity: optional(integer(1, 1_000_000)), now: optional(isFunction) }),
        inner: INPUT,
      },
      {
        arg: 0,
        field: "capacity",
        names: /^capacity /,
        codes: INPUT,
        valid: optional(integer(1, 1_000_000)),
      },
      { arg: 0, field: "now", names: /^now /, codes: INPUT, valid: optional(isFunction) },
    ],
  },
  {
    name: "outbox.list(query)",
    args: () => [{ to: PHONES["alice"], after: 0, limit: 10 }],
    call: method(outbox, "list"),
    positions: [
      {
        arg: 0,
        names: /^the outbox query /,
        codes: INPUT,
        valid: recordWith({
          to: optional((x) => typeof x === "string" && x.length >= 1 && x.length <= 256),
          after: optional(wholeNumber),
          limit: optional(integer(1, 1000)),
        }),
        inner: INPUT,
      },
      {
        arg: 0,
        field: "to",
        names: /^to /,
        codes: INPUT,
        valid: optional((x) => typeof x === "string" && x.length >= 1 && x.length <= 256),
      },
      { arg: 0, field: "after", names: /^after /, codes: INPUT, valid: optional(wholeNumber) },
      { arg: 0, field: "limit", names: /^limit /, codes: INPUT, valid: optional(integer(1, 1000)) },
    ],
  },
  {
    name: "outbox.next(to)",
    args: () => ["+33699999999"],
    call: (...a: unknown[]) => {
      void (method(outbox, "next")(...a) as Promise<unknown>);
    },
    positions: [{ arg: 0, names: /^to /, codes: INPUT, valid: (x) => typeof x === "string" }],
  },
];

const PROVISIONER: ArgumentCase[] = [
  {
    name: "new Provisioner(options)",
    args: () => [options()],
    call: built(Provisioner),
    afterRefusal: untouched,
    positions: [
      optionsAt(/^the Provisioner's options /, [...INPUT, ...POLICY]),
      { arg: 0, field: "verifier", names: /^options\.verifier /, codes: INPUT, valid: never },
      { arg: 0, field: "store", names: /^options\.store /, codes: INPUT, valid: never },
      { arg: 0, field: "keys", names: /^options\.keys /, codes: INPUT, valid: never },
      { arg: 0, field: "policy", names: /^the policy /, codes: POLICY, valid: never, inner: POLICY },
      { arg: 0, field: "directory", names: /^options\.directory /, codes: INPUT, valid: isFunction },
      { arg: 0, field: "sms", names: /^options\.sms /, codes: [...INPUT, ...POLICY], valid: never },
      { arg: 0, field: "letters", names: /^options\.letters /, codes: INPUT, valid: (x) => x === undefined },
      {
        arg: 0,
        field: "password",
        names: /^options\.password /,
        codes: [...INPUT, ...POLICY],
        valid: isFunction,
      },
      {
        arg: 0,
        field: "bankKeys",
        names: /^(the bank key|options\.bankKeys )/,
        codes: INPUT,
        valid: (x) => x === undefined || (isRecord(x) && Object.keys(x as object).length === 0),
        inner: INPUT,
      },
      { arg: 0, field: "now", names: /^options\.now /, codes: INPUT, valid: optional(isFunction) },
    ],
  },
  {
    name: "provisioner.start(request)",
    args: () => [{ user: "carol", appVersion: "5.2.0" }],
    call: async (...a: unknown[]) => {
      const answer = (await method(provisioner, "start")(...a)) as { delivered: Promise<unknown> };
      await answer.delivered; // the codes' delivery (its audit row) before the next call's log
      return answer;
    },
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^the start request /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "user", names: /^a user id /, codes: INPUT, valid: userId },
      {
        arg: 0,
        field: "appVersion",
        names: /^an app version /,
        codes: INPUT,
        valid: matching(/^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$/),
      },
      { arg: 0, field: "slot", names: /^slot /, codes: INPUT, valid: optional(integer(1, 2)) },
      {
        arg: 0,
        field: "idempotencyKey",
        names: /^idempotencyKey /,
        codes: INPUT,
        valid: optional(matching(/^[0-9a-f]{32}$/)),
      },
    ],
  },
  {
    name: "provisioner.step(message)",
    args: () => [a1],
    call: method(provisioner, "step"),
    afterRefusal: untouched,
    positions: [
      {
        arg: 0,
        names: /^(a message is |unknown version|expected a message|a \w+ message has exactly)/,
        codes: MESSAGE,
        valid: never,
      },
    ],
  },
  {
    name: "provisioner.issueLoginChallenge(credential)",
    args: () => [app.credential],
    call: method(provisioner, "issueLoginChallenge"),
    afterRefusal: untouched,
    positions: [
      {
        arg: 0,
        names: /^credential /,
        codes: INPUT,
        valid: matching(/^[A-Za-z0-9_-]{1,32}\.[1-9][0-9]?$/),
      },
    ],
  },
  {
    name: "provisioner.verifyDevice(login)",
    args: () => [login],
    call: method(provisioner, "verifyDevice"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a login /, codes: INPUT, valid: never, inner: INPUT },
      {
        arg: 0,
        field: "credential",
        names: /^credential /,
        codes: INPUT,
        valid: matching(/^[A-Za-z0-9_-]{1,32}\.[1-9][0-9]?$/),
      },
      { arg: 0, field: "challenge", names: /^challenge /, codes: INPUT, valid: matching(/^[0-9a-f]{32}$/) },
      {
        arg: 0,
        field: "code",
        names: /^code /,
        codes: INPUT,
        valid: (x) => typeof x === "string" && x.length >= 1 && x.length <= 24,
      },
      { arg: 0, field: "signature", names: /^signature /, codes: INPUT, valid: never },
    ],
  },
  ...(["grace", "status"] as const).map(
    (m): ArgumentCase => ({
      name: `provisioner.${m}(user)`,
      args: () => ["alice"],
      call: method(provisioner, m),
      afterRefusal: untouched,
      positions: [{ arg: 0, names: /^a user id /, codes: INPUT, valid: userId }],
    }),
  ),
  {
    name: "provisioner.reset(user, options)",
    args: () => ["erin", { reason: "lost-phone" }],
    call: method(provisioner, "reset"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a user id /, codes: INPUT, valid: userId },
      {
        arg: 1,
        names: /^the reset options /,
        codes: INPUT,
        valid: recordWith({ reason: optional(matching(/^[a-z][a-z0-9-]{0,31}$/)) }),
        inner: INPUT,
      },
      {
        arg: 1,
        field: "reason",
        names: /^a reason /,
        codes: INPUT,
        valid: optional(matching(/^[a-z][a-z0-9-]{0,31}$/)),
      },
    ],
  },
];

const approvalsOptions = () => ({
  verifier: w.verifier,
  store: w.security,
  keys: w.keys,
  now,
  actor: "bank",
});
const APPROVALS: ArgumentCase[] = [
  {
    name: "new Approvals(options)",
    args: () => [approvalsOptions()],
    call: built(Approvals),
    afterRefusal: untouched,
    positions: [
      optionsAt(/^the approvals' options /, INPUT),
      { arg: 0, field: "verifier", names: /^options\.verifier /, codes: INPUT, valid: never },
      { arg: 0, field: "store", names: /^options\.store /, codes: INPUT, valid: never },
      { arg: 0, field: "keys", names: /^options\.keys /, codes: INPUT, valid: never },
      { arg: 0, field: "now", names: /^options\.now /, codes: INPUT, valid: optional(isFunction) },
      { arg: 0, field: "actor", names: /^options\.actor /, codes: INPUT, valid: optional(printable) },
    ],
  },
  {
    name: "approvals.registerDevice(request)",
    args: () => [{ credential: device.credential, publicKey: device.device.publicKey }],
    call: method(w.approvals, "registerDevice"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a device /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "credential", names: /^the credential id /, codes: INPUT, valid: userId },
      { arg: 0, field: "publicKey", names: /^the device key /, codes: INPUT, valid: never },
    ],
  },
  {
    name: "approvals.create(request)",
    args: () => [
      { document: transfer(w), user: device.user, credential: device.credential, method: "device" },
    ],
    call: method(w.approvals, "create"),
    afterRefusal: untouched,
    positions: [
      {
        arg: 0,
        names: /^an operation request /,
        codes: INPUT,
        valid: never,
        inner: [...INPUT, ...OPERATION],
      },
      { arg: 0, field: "document", names: /./, codes: OPERATION, valid: never, inner: OPERATION },
      { arg: 0, field: "user", names: /^the user id /, codes: INPUT, valid: userId },
      { arg: 0, field: "credential", names: /^the credential id /, codes: INPUT, valid: userId },
      {
        arg: 0,
        field: "method",
        names: /^the method /,
        codes: INPUT,
        valid: oneOf("device", "ocra", "cap-sign"),
      },
      { arg: 0, field: "contract", names: /^the contract id /, codes: INPUT, valid: optional(userId) },
    ],
  },
  ...(["state", "prompt"] as const).map(
    (m): ArgumentCase => ({
      name: `approvals.${m}(id, asked)`,
      args: () => [deviceOp.id, { user: device.user }],
      call: method(w.approvals, m),
      afterRefusal: untouched,
      positions: [{ arg: 0, names: /^an operation id /, codes: INPUT, valid: OPERATION_ID }, ...askedAt(1)],
    }),
  ),
  {
    name: "approvals.list(user, options)",
    args: () => [device.user, { limit: 5 }],
    call: method(w.approvals, "list"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^the user id /, codes: INPUT, valid: userId },
      ...pageAt(1, /^after /, userId, {
        state: optional(oneOf("pending", "approved", "declined", "cancelled")),
      }),
      {
        arg: 1,
        field: "state",
        names: /^a state /,
        codes: INPUT,
        valid: optional(oneOf("pending", "approved", "declined", "cancelled")),
      },
    ],
  },
  {
    name: "approvals.decide({ id, user, device })",
    args: () => [{ id: deviceOp.id, user: device.user, device: deviceDecision }],
    call: method(w.approvals, "decide"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a decision /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "id", names: /^an operation id /, codes: INPUT, valid: OPERATION_ID },
      { arg: 0, field: "user", names: /^the asking user /, codes: INPUT, valid: optional(userId) },
      {
        arg: 0,
        field: "device",
        names: /^(a device decision |a decision has device)/,
        codes: INPUT,
        valid: never,
        inner: INPUT,
      },
    ],
  },
  {
    name: "approvals.decide({ id, user, decision, code })",
    args: () => [{ id: padOp.id, user: pad.user, decision: "approve", code: "12345678" }],
    call: method(w.approvals, "decide"),
    afterRefusal: untouched,
    positions: [
      {
        arg: 0,
        field: "decision",
        names: /^the decision /,
        codes: INPUT,
        valid: oneOf("approve", "decline"),
      },
      {
        arg: 0,
        field: "code",
        names: /^the code /,
        codes: INPUT,
        valid: matching(/^[^\p{Cc}]{1,64}$/u),
      },
    ],
  },
  {
    name: "approvals.cancel(id, reason, asked)",
    args: () => [cancelOp.id, "the customer left", { user: device.user }],
    call: method(w.approvals, "cancel"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^an operation id /, codes: INPUT, valid: OPERATION_ID },
      { arg: 1, names: /^a reason /, codes: INPUT, valid: words },
      ...askedAt(2),
    ],
  },
  {
    name: "approvals.receipts(user, options)",
    args: () => [device.user, { after: 0, limit: 10 }],
    call: method(w.approvals, "receipts"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^the user id /, codes: INPUT, valid: userId },
      ...pageAt(1, /^after /, wholeNumber),
    ],
  },
];

const BOB = { kind: "user", id: "bob" };
const stampOf = [{ kind: "user", id: "bob", class: "session", epoch: 0 }];
const subjectAt = (arg: number, field?: string): ArgumentPosition => ({
  arg,
  ...(field !== undefined ? { field } : {}),
  names: /^the subject/,
  codes: INPUT,
  valid: never,
  inner: INPUT,
});
const EVENTS: ArgumentCase[] = [
  {
    name: "new SecurityEvents(options)",
    args: () => [{ store: w.security, now, actor: "bank" }],
    call: built(SecurityEvents),
    afterRefusal: untouched,
    positions: [
      optionsAt(/^the security events' options /, INPUT),
      { arg: 0, field: "store", names: /^options\.store /, codes: INPUT, valid: never },
      { arg: 0, field: "now", names: /^options\.now /, codes: INPUT, valid: optional(isFunction) },
      { arg: 0, field: "actor", names: /^options\.actor /, codes: INPUT, valid: optional(printable) },
    ],
  },
  {
    name: "events.record(request)",
    args: () => [{ type: "password-change", subject: BOB, cause: "changed by the customer" }],
    call: method(w.events, "record"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^an event /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "type", names: /^an event type /, codes: INPUT, valid: never },
      subjectAt(0, "subject"),
      { arg: 0, field: "cause", names: /^a cause /, codes: INPUT, valid: words },
    ],
  },
  {
    name: "events.list(options)",
    args: () => [{ subject: BOB, after: 0, limit: 10 }],
    call: method(w.events, "list"),
    afterRefusal: untouched,
    positions: [
      ...pageAt(0, /^after /, wholeNumber, { subject: optional(never) }),
      { ...subjectAt(0, "subject"), valid: optional(never) },
    ],
  },
  {
    name: "events.epochs(subject)",
    args: () => [BOB],
    call: method(w.events, "epochs"),
    afterRefusal: untouched,
    positions: [subjectAt(0)],
  },
  {
    name: "events.stamp(entries)",
    args: () => [[{ subject: BOB, class: "session" }]],
    call: method(w.events, "stamp"),
    afterRefusal: untouched,
    positions: [{ arg: 0, names: /^a stamp /, codes: INPUT, valid: never, inner: INPUT }],
  },
  {
    name: "events.valid(stamp)",
    args: () => [stampOf],
    call: method(w.events, "valid"),
    afterRefusal: untouched,
    positions: [{ arg: 0, names: /^a stamp /, codes: INPUT, valid: never, inner: INPUT }],
  },
];

const GRANT_ID = matching(/^[0-9a-f]{32}$/);
const GRANTS: ArgumentCase[] = [
  {
    name: "new Grants(options)",
    args: () => [{ store: w.security, now, actor: "bank" }],
    call: built(Grants),
    afterRefusal: untouched,
    positions: [
      optionsAt(/^the grants' options /, INPUT),
      { arg: 0, field: "store", names: /^options\.store /, codes: INPUT, valid: never },
      { arg: 0, field: "now", names: /^options\.now /, codes: INPUT, valid: optional(isFunction) },
      { arg: 0, field: "actor", names: /^options\.actor /, codes: INPUT, valid: optional(printable) },
    ],
  },
  {
    name: "grants.create(request)",
    args: () => [{ kind: "passerelle", owner: device.user, target: pad.user }],
    call: method(w.grants, "create"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a grant /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "kind", names: /^a grant's kind /, codes: INPUT, valid: oneOf("passerelle") },
      { arg: 0, field: "owner", names: /^the owner /, codes: INPUT, valid: userId },
      { arg: 0, field: "target", names: /^the target /, codes: INPUT, valid: userId },
      { arg: 0, field: "contract", names: /^the contract /, codes: INPUT, valid: optional(userId) },
    ],
  },
  {
    name: "grants.activate(request)",
    args: () => [{ id: grant.id, operation: consent }],
    // Valid arguments reach the store's judgement: the first call activates the grant, the next are refused
    // there (GRANT_INVALID: not pending), past the door.
    call: async (...a: unknown[]) => {
      try {
        return await method(w.grants, "activate")(...a);
      } catch (e) {
        if (isCapkitError(e, "GRANT_INVALID") && calls.includes("security.activateGrant")) return undefined;
        throw e;
      }
    },
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a grant /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "id", names: /^a grant id /, codes: INPUT, valid: GRANT_ID },
      {
        arg: 0,
        field: "operation",
        names: /^the consent operation's id /,
        codes: INPUT,
        valid: OPERATION_ID,
      },
    ],
  },
  {
    name: "grants.deactivate(request)",
    args: () => [{ id: grant.id, reason: "asked by the customer" }],
    call: method(w.grants, "deactivate"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a grant /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "id", names: /^a grant id /, codes: INPUT, valid: GRANT_ID },
      { arg: 0, field: "reason", names: /^a reason /, codes: INPUT, valid: words },
    ],
  },
  {
    name: "grants.check(id, epoch)",
    args: () => [grant.id, 1],
    call: method(w.grants, "check"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^a grant id /, codes: INPUT, valid: GRANT_ID },
      { arg: 1, names: /^a grant's epoch /, codes: INPUT, valid: optional(wholeNumber) },
    ],
  },
  {
    name: "grants.get(id)",
    args: () => [grant.id],
    call: method(w.grants, "get"),
    afterRefusal: untouched,
    positions: [{ arg: 0, names: /^a grant id /, codes: INPUT, valid: GRANT_ID }],
  },
  {
    name: "grants.list(user, limit)",
    args: () => [device.user, 10],
    call: method(w.grants, "list"),
    afterRefusal: untouched,
    positions: [
      { arg: 0, names: /^the user /, codes: INPUT, valid: userId },
      { arg: 1, names: /^a page size /, codes: INPUT, valid: optional(pageSize) },
    ],
  },
];

describe("@capkit/verify/provisioning's arguments, as plain JavaScript passes them", () => {
  checkArguments([...POLICY_CASES, ...OUTBOX, ...PROVISIONER], 100);
});
describe("@capkit/verify/approvals' arguments, as plain JavaScript passes them", () => {
  checkArguments([...APPROVALS, ...EVENTS, ...GRANTS], 100);
});
