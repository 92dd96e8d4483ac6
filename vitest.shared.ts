import type { ViteUserConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "@capkit/source" export condition), so tests
// and typecheck never need a build first.
const conditions = ["@capkit/source", "module", "node", "import", "default"];

export function capkitConfig(test: NonNullable<ViteUserConfig["test"]>): ViteUserConfig {
  return { resolve: { conditions }, ssr: { resolve: { conditions } }, test };
}
