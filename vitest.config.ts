import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "@capkit/source" export condition), so tests
// and typecheck never need a build first.
export default defineConfig({
  resolve: { conditions: ["@capkit/source", "module", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["@capkit/source", "module", "node", "import", "default"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
