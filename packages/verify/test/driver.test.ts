import { isCapkitError } from "@capkit/core";
import { describe, expect, it } from "vitest";
import { loadDriver } from "../src/stores/driver.js";

describe("optional database drivers", () => {
  it("a missing driver is STORE_UNAVAILABLE naming the package to install", () => {
    let error: unknown;
    try {
      loadDriver("capkit-no-such-driver", "test store");
    } catch (e) {
      error = e;
    }
    expect(isCapkitError(error, "STORE_UNAVAILABLE")).toBe(true);
    const e = error as { message: string; hint: string; details: { package: string } };
    expect(e.message).toBe("the test store needs the capkit-no-such-driver package, which is not installed");
    expect(e.hint).toBe("install it next to @capkit/verify: npm install capkit-no-such-driver");
    expect(e.details.package).toBe("capkit-no-such-driver");
  });

  it("an installed driver loads", () => {
    expect(typeof loadDriver<(...args: unknown[]) => unknown>("better-sqlite3", "SQLite store")).toBe(
      "function",
    );
  });
});
