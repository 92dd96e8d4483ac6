import { randomBytes } from "node:crypto";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { SoftwareKeyProvider } from "../src/index.js";

describe("SoftwareKeyProvider", () => {
  const material = SoftwareKeyProvider.generateMaterial();
  const keys = new SoftwareKeyProvider(material);

  it("sealed data opens only under its own credential id and master key", async () => {
    const secret = randomBytes(20);
    const sealed = await keys.seal("alice", secret);
    expect(sealed).not.toContain(secret.toString("hex"));
    expect(Buffer.from(await keys.unseal("alice", sealed))).toEqual(secret);
    await expect(keys.unseal("bob", sealed)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const other = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    const err = await other.unseal("alice", sealed).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "KEY_INVALID" });
    expect(String((err as Error).message)).not.toContain(material.masterKey);
    await expect(keys.unseal("alice", `v0:${sealed.slice(3)}`)).rejects.toMatchObject({
      code: "KEY_INVALID",
    });
  });

  it("a CAP record with a test key in clear is refused unless test keys are allowed", async () => {
    const record = new SimulatedCard(newSimCardState("sesame", "1234")).issuerRecord();
    await expect(keys.iccMasterKey(record)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const testing = new SoftwareKeyProvider({ ...material, allowTestKeys: true });
    expect((await testing.iccMasterKey(record)).length).toBe(16);
  });

  it("malformed material is KEY_INVALID without echoing it", () => {
    expect(() => new SoftwareKeyProvider({ masterKey: "00" })).toThrow(
      expect.objectContaining({ code: "KEY_INVALID" }),
    );
    const e = (() => {
      try {
        new SoftwareKeyProvider({ masterKey: "00".repeat(32), issuerKeys: { k: "SECRETSECRET" } });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toMatchObject({ code: "KEY_INVALID" });
    expect(e?.message).not.toContain("SECRETSECRET");
  });
});

describe("database drivers are optional peer dependencies", () => {
  it("a missing driver is a typed error naming the package to install", async () => {
    const { loadDriver } = await import("../src/stores/driver.js");
    const e = (() => {
      try {
        loadDriver("capkit-no-such-driver", "SomeStore");
      } catch (err) {
        return err as { code: string; message: string; hint: string };
      }
    })();
    expect(e).toMatchObject({
      code: "STORE_UNAVAILABLE",
      hint: expect.stringContaining("npm install capkit-no-such-driver"),
    });
    expect(e?.message).toContain('"capkit-no-such-driver"');
  });
});
