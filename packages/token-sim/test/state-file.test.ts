import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
    const card1 = openCardStateFile(path);
    const first = await generateCapCode(card1, { mode: "identify" }, { pin: "1234" });
    await card1.close();
    expect(first.atc).toBe(created.atc + 1);
    expect(readCardStateFile(path).atc).toBe(created.atc + 1);
    const card2 = openCardStateFile(path);
    const second = await generateCapCode(card2, { mode: "identify" }, { pin: "1234" });
    await card2.close();
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

  it("are used by one process at a time: a second opener is refused, a stale lock is taken over", async () => {
    const path = join(dir(), "card.json");
    createCardStateFile(path, "sesame", "1234");
    const card = openCardStateFile(path);
    expect(() => openCardStateFile(path)).toThrow(expect.objectContaining({ code: "CARD_FILE_IN_USE" }));
    // Another process: a child that opens the same file while this one holds it.
    const child = spawnSync(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        "-e",
        `import("@capkit/token-sim/node").then((t) => t.openCardStateFile(${JSON.stringify(path)})).then(() => process.exit(0), (e) => { console.log(e.code); process.exit(1); })`,
      ],
      { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(child.stdout.trim()).toBe("CARD_FILE_IN_USE");
    await card.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    // A lock whose process is gone (killed with SIGKILL) does not keep the card from being used.
    writeFileSync(`${path}.lock`, "999999999\n");
    const again = openCardStateFile(path);
    await again.close();
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
