import { defineConfig } from "vitest/config";
import { capkitConfig } from "./vitest.shared.js";

// Unit, property and local integration tests. Tests that need the machine's single pcscd run separately, one
// file at a time (vitest.pcscd.config.ts), and so do the browser tests (vitest.browser.config.ts).
export default defineConfig(
  capkitConfig({
    include: ["packages/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.pcscd.test.ts", "**/*.browser.test.ts"],
    testTimeout: 30_000,
    // node-postgres's deprecation warnings (a statement queued on a busy client: an error in pg 9) fail the test.
    setupFiles: ["packages/test-support/src/pg-driver-guard.ts"],
  }),
);
