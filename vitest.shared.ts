import { defaultClientConditions, defaultServerConditions } from "vite";
import type { ViteUserConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "@capkit/source" export condition), so tests
// and typecheck never need a build first. Only that condition is added to Vite's defaults: vitest hands the
// conditions to Node, whose require() honours them too (an "import" condition there makes CommonJS packages
// such as pg load ESM builds they cannot require).
export function capkitConfig(test: NonNullable<ViteUserConfig["test"]>): ViteUserConfig {
  return {
    resolve: { conditions: ["@capkit/source", ...defaultClientConditions] },
    ssr: { resolve: { conditions: ["@capkit/source", ...defaultServerConditions] } },
    test,
  };
}
