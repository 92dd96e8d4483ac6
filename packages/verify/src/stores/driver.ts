import { createRequire } from "node:module";
import { CapkitError } from "@capkit/core";

/**
 * The database drivers are optional peer dependencies (docs/architecture.md §6): an application installs the
 * one its store uses, so a PostgreSQL user never compiles SQLite and the reverse. Each store loads its driver
 * when it is first used, and a missing one is a typed error that names the package to install.
 */
const require = createRequire(import.meta.url);

export function loadDriver<T>(pkg: string, store: string): T {
  try {
    return require(pkg) as T;
  } catch (e) {
    const missing = (e as { code?: string }).code === "MODULE_NOT_FOUND";
    throw new CapkitError(
      "STORE_UNAVAILABLE",
      missing
        ? `the ${store} needs the ${pkg} package, which is not installed`
        : `the ${store} could not load the ${pkg} package`,
      {
        hint: missing ? `install it next to @capkit/verify: npm install ${pkg}` : `reinstall ${pkg}`,
        details: { package: pkg },
        cause: e,
      },
    );
  }
}
