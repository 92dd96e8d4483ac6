import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCapCode } from "@capkit/emv-cap";
import { describe, expect, it } from "vitest";
import { createCardStateFile, openCardStateFile, readCardStateFile } from "../src/node.js";

const dir = () => mkdtempSync(join(tmpdir(), "capkit-card-"));

describe("card state files", () => {
  it("are created 0600, never overwritten, and keep the ATC across sessions", async () => {
    const path = join(dir(), "card.json");
    const created = createCardStateFile(path, "sesame", "1234");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => createCardStateFile(path, "sesame", "1234")).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
    const first = await generateCapCode(openCardStateFile(path), { mode: "identify" }, { pin: "1234" });
    expect(first.atc).toBe(created.atc + 1);
    expect(readCardStateFile(path).atc).toBe(created.atc + 1);
    const second = await generateCapCode(openCardStateFile(path), { mode: "identify" }, { pin: "1234" });
    expect(second.atc).toBe(created.atc + 2);
    expect(second.code).not.toBe(first.code);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keep the PIN try counter", async () => {
    const path = join(dir(), "card.json");
    createCardStateFile(path, "uk", "1234");
    await expect(
      generateCapCode(openCardStateFile(path), { mode: "identify" }, { pin: "0000" }),
    ).rejects.toMatchObject({ code: "PIN_WRONG" });
    expect(readCardStateFile(path).pinTries).toBe(2);
  });

  it("reject damaged or missing files with a clear error", () => {
    const d = dir();
    writeFileSync(join(d, "bad.json"), "{ not json");
    expect(() => readCardStateFile(join(d, "bad.json"))).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
    expect(() => readCardStateFile(join(d, "missing.json"))).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
    writeFileSync(
      join(d, "wrong.json"),
      JSON.stringify({ ...JSON.parse("{}"), format: "capkit-sim-card/1", profile: "nope" }),
    );
    expect(() => readCardStateFile(join(d, "wrong.json"))).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
    expect(readFileSync(join(d, "bad.json"), "utf8")).toBe("{ not json");
  });
});
