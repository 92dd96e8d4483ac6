import { isCapkitError } from "@capkit/core";
import { Hono } from "hono";
import { sogesmartPage } from "../pages/sogesmart.js";
import type { DeviceProof } from "../sogesmart.js";
import { clientAddress } from "../web/client.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { KEY, type KeptAnswer } from "../web/idempotency.js";
import { demoOf, visitorOf } from "../web/visitor.js";

/** The SogeSmart page: the two phones of this browser's SogeSmart account, their SMS, and what to try. */
export function sogesmartRoutes(deps: Deps): Hono<BankEnv> {
  const app = new Hono<BankEnv>();
  app.get("/", (c) =>
    c.html(
      sogesmartPage({
        csrf: visitorOf(c, deps).csrf,
        demo: demoOf(c, deps),
        legacy: deps.bank.sogesmart.legacy,
      }),
    ),
  );
  return app;
}

/** An answer of the app API, as kept under its Idempotency-Key. */
type Answer = KeptAnswer;
const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });
/** The Retry-After of a request whose key is still being done elsewhere (web/idempotency.ts). */
const IN_PROGRESS_RETRY_S = 5;

/** Refusals by error code: what the app reads (the `error` member) and the HTTP status. */
const STATUS: Readonly<Record<string, number>> = {
  INPUT_INVALID: 400,
  ACTIVATION_MESSAGE_INVALID: 400,
  ACTIVATION_UNKNOWN: 404,
  ACTIVATION_EXPIRED: 409,
  ACTIVATION_CODE_DEAD: 409,
  ACTIVATION_FINISHED: 409,
  ACTIVATION_OUT_OF_ORDER: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  OPERATION_UNKNOWN: 404,
  APPROVAL_METHOD_INVALID: 409,
  APP_VERSION_UNSUPPORTED: 426,
  ACTIVATION_RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
};

function refusal(e: unknown): Answer {
  if (!isCapkitError(e)) {
    console.error("bank-login: sogesmart API: internal error:", (e as Error).message);
    return json(500, { error: "INTERNAL" });
  }
  const details = (e.details ?? {}) as { retryAfter?: number; answer?: Record<string, unknown> };
  // A device proof refused where one was required: the same answer as a login's (rejected, locked, …).
  if (e.code === "ACTIVATION_REFUSED" && details.answer) return json(403, details.answer);
  return json(STATUS[e.code] ?? 400, {
    error: e.code,
    message: e.message,
    ...(details.retryAfter !== undefined ? { retryAfter: details.retryAfter } : {}),
  });
}

/**
 * The app's API, JSON in and out, for `<capkit-sogesmart-app>`: no cookies read or set (the app proves itself
 * with its device key), `Origin` checked by app.ts like every POST and a JSON body required (a form from
 * another site cannot send one without a preflight this server never grants), an `Idempotency-Key` on every
 * request (the same request again gets the kept answer, web/idempotency.ts), guesses throttled by address.
 * Each route is one call of the bank's SogeSmart (sogesmart.ts).
 */
export function sogesmartApi(deps: Deps): Hono<BankEnv> {
  const { sogesmart, idempotency } = deps.bank;
  const app = new Hono<BankEnv>();

  const route = (
    path: string,
    o: { throttled: boolean },
    handle: (body: Record<string, unknown>, text: string, c: BankContext) => Promise<Answer>,
  ) =>
    app.post(path, async (c) => {
      const send = (a: Answer) => c.body(a.body, a.status as 200, { "content-type": "application/json" });
      const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "application/json")
        return send(json(415, { error: "INPUT_INVALID", message: "JSON only" }));
      const key = c.req.header("idempotency-key") ?? "";
      if (!KEY.test(key))
        return send(
          json(400, { error: "INPUT_INVALID", message: "Idempotency-Key is 32 lower-case hex digits" }),
        );
      if (o.throttled) {
        const wait = deps.throttles.attemptsPerAddress.take(clientAddress(c));
        if (wait > 0) {
          c.header("retry-after", String(wait));
          return send(json(429, { error: "THROTTLED", retryAfter: wait }));
        }
      }
      const text = await c.req.text();
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          throw new Error("not an object");
        body = parsed as Record<string, unknown>;
      } catch {
        return send(json(400, { error: "INPUT_INVALID", message: "the body is a JSON object" }));
      }
      const r = await idempotency.once(key, path, text, async () => {
        try {
          return await handle(body, text, c);
        } catch (e) {
          return refusal(e);
        }
      });
      if (!("kind" in r)) return send(r);
      switch (r.kind) {
        case "kept":
          return send(r.answer);
        case "reused":
          return send(
            json(422, { error: "IDEMPOTENCY_KEY_REUSED", message: "this key was used for another request" }),
          );
        case "in-progress":
          c.header("retry-after", String(IN_PROGRESS_RETRY_S));
          return send(
            json(409, {
              error: "IDEMPOTENCY_KEY_IN_PROGRESS",
              message: "this request is still being done: send it again later",
              retryAfter: IN_PROGRESS_RETRY_S,
            }),
          );
      }
    });

  const proof = (b: Record<string, unknown>): DeviceProof => ({
    credential: b["credential"] as string,
    challenge: b["challenge"] as string,
    otp: b["otp"] as string,
    signature: b["signature"] as string,
  });

  route("/activation/start", { throttled: true }, async (b, _t, c) => {
    const offer = await sogesmart.start({
      identifiant: b["identifiant"],
      appVersion: b["appVersion"],
      purpose: b["purpose"],
      idempotencyKey: c.req.header("idempotency-key")!,
    });
    const { webSession: _, ...forTheApp } = offer;
    return json(200, forTheApp);
  });
  route("/activation/step", { throttled: false }, async (_b, text) =>
    json(200, { reply: await sogesmart.step(text) }),
  );
  route("/login/challenge", { throttled: false }, async (b) =>
    json(200, await sogesmart.challenge(b["credential"])),
  );
  route("/activation/password", { throttled: true }, async (b) =>
    json(200, { result: "set", ...(await sogesmart.setFirstPassword(proof(b), b["password"])) }),
  );
  route("/login", { throttled: true }, async (b) => {
    const r = await sogesmart.login(proof(b), b["password"]);
    return json(200, r.result === "accepted" ? { result: "accepted", name: r.name } : r);
  });
  route("/password", { throttled: true }, async (b) => {
    const r = await sogesmart.changePassword(proof(b), b["password"], b["newPassword"]);
    return json(200, r.result === "accepted" ? { result: "changed" } : r);
  });
  // « Pass Sécurité »: the operation waiting for this app, then the customer's signed decision.
  route("/operations/pending", { throttled: true }, async (b) =>
    json(200, await sogesmart.pendingOperation(proof(b))),
  );
  route("/operations/decide", { throttled: true }, async (b) => {
    const r = await sogesmart.decideOperation(
      proof(b),
      b["password"],
      b["id"],
      b["device"] as Parameters<typeof sogesmart.decideOperation>[3],
    );
    return json(200, r);
  });
  route("/subscription", { throttled: true }, async (b) => {
    const fields = ["firstName", "lastName", "birthDate", "email", "account"] as const;
    const request: Record<string, string> = {};
    for (const f of fields) {
      const v = b[f];
      if (typeof v !== "string" || v.length < 1 || v.length > 254)
        return json(400, { error: "INPUT_INVALID", message: `${f} is required` });
      request[f] = v;
    }
    if (b["conditions"] !== "accepted")
      return json(400, { error: "INPUT_INVALID", message: "the conditions must be accepted" });
    sogesmart.subscribe(request);
    return json(200, { result: "received" });
  });

  return app;
}
