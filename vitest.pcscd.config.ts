import { defineConfig } from "vitest/config";
import { capkitConfig } from "./vitest.shared.js";

// Integration tests against a real pcscd: Debian's pcscd has one socket per machine (/run/pcscd), so these
// files run one after another, each starting and stopping its own daemon.
export default defineConfig(
  capkitConfig({
    include: ["packages/*/test/**/*.pcscd.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  }),
);
