import { createRequire } from "node:module";
import { CapkitError } from "@capkit/core";

const require = createRequire(import.meta.url);

/**
 * Loads a database driver the application installs itself (an optional peer dependency: the core of
 * @capkit/verify carries no driver). A missing one is a deployment problem with one fix, so it is a typed
 * error naming the package to install, never a bare "module not found".
 */
export function loadDriver<T>(
  name: string,
  store: string,
  code: "STORE_UNAVAILABLE" | "KEY_UNAVAILABLE" = "STORE_UNAVAILABLE",
): T {
  try {
    return require(name) as T;
  } catch (e) {
    if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
    throw new CapkitError(code, `${store} needs the "${name}" package, which is not installed`, {
      hint: `install it next to @capkit/verify: npm install ${name}`,
    });
  }
}
