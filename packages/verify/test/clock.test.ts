import { randomBytes } from "node:crypto";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, steadyClock, Verifier } from "../src/index.js";

/**
 * A server's wall clock stepping +120 s made every honest TOTP code fail and count (issue 20). The steady clock
 * (src/clock.ts) does not move with a step and follows the wall clock at 1 % at most. Codes are RFC 6238 through
 * @capkit/oath's generator, at the true time.
 */
describe("server clock steps", () => {
  const fixture = () => {
    let truth = Date.UTC(2026, 11, 5, 12, 0, 0); // what the tokens' clocks say
    let step = 0; // how far the server's wall clock has been stepped
    return {
      advance: (ms: number) => {
        truth += ms;
      },
      stepWall: (ms: number) => {
        step += ms;
      },
      wall: () => truth + step,
      monotonic: () => truth, // the monotonic clock runs on, whatever the wall clock does
      truth: () => truth,
    };
  };

  it("the steady clock ignores a step, follows it at 1 % and never goes backwards", () => {
    const f = fixture();
    const now = steadyClock({ wall: f.wall, monotonic: f.monotonic });
    const t0 = now();
    f.stepWall(120_000);
    expect(now()).toBe(t0);
    f.advance(10_000);
    expect(now()).toBe(t0 + 10_000 + 100); // 1 % of the 10 s elapsed towards the stepped wall clock
    f.advance(12_000_000); // 3 h 20 min later the step is absorbed
    expect(now()).toBe(f.wall());
    f.stepWall(-300_000);
    const before = now();
    f.advance(1000);
    expect(now()).toBe(before + 990); // a step back slows it down, never turns it back
  });

  it("a +120 s step of the server's clock: honest TOTP codes keep being accepted on the steady clock; on the wall clock they fail and count", async () => {
    const secret = randomBytes(20);
    const gen = new HotpGenerator(new HmacKey(secret), 6);
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    const f = fixture();
    const steady = new Verifier({
      store: new MemoryStore(),
      keys,
      now: steadyClock({ wall: f.wall, monotonic: f.monotonic }),
    });
    const wall = new Verifier({ store: new MemoryStore(), keys, now: f.wall });
    for (const v of [steady, wall]) await v.enroll({ id: "t", kind: "totp", secret });
    const honest = () => gen.code(Math.floor(f.truth() / 30_000));
    expect((await steady.verify({ id: "t", code: honest() })).result).toBe("accepted");
    expect((await wall.verify({ id: "t", code: honest() })).result).toBe("accepted");
    f.stepWall(120_000);
    for (let i = 0; i < 5; i++) {
      f.advance(30_000);
      expect((await steady.verify({ id: "t", code: honest() })).result).toBe("accepted");
      expect((await wall.verify({ id: "t", code: honest() })).result).not.toBe("accepted");
    }
    expect((await wall.status("t")).locked).toBe(true);
    expect((await steady.status("t")).failures).toBe(0);
  });
});
