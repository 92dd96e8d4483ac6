import { defineConfig } from "vitest/config";
import { capkitConfig } from "./vitest.shared.js";

// End-to-end tests in Debian's Chromium (Playwright, no browser download): the @capkit/web elements and the
// bank-login example. One file at a time: each drives a browser, and the machine has two cores.
export default defineConfig(
  capkitConfig({
    include: ["packages/*/test/**/*.browser.test.ts", "examples/*/test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  }),
);
