/**
 * The elements as one browser ES module, for a Node server to serve: a page then needs one
 * `<script type="module" src=…>` and no build step of its own.
 *
 * @packageDocumentation
 */

/** The elements {@link bundleCapkitWeb} bundles. */
export interface BundleOptions {
  /** Minified (true). */
  readonly minify?: boolean;
  /**
   * `devices` (default): `<capkit-sesame-reader>` and `<capkit-sgpass-token>`, as `@capkit/web`; `sogesmart`:
   * `<capkit-sogesmart-app>` and `<capkit-sms-inbox>`, as `@capkit/web/sogesmart` — with the P-256 curve and the
   * activation protocol inside, kept apart so that the devices' pages do not load them.
   */
  readonly entry?: "devices" | "sogesmart";
}

// (The imports follow the first export: a .d.ts drops a runtime-only import, and the package comment with it.)
import { fileURLToPath } from "node:url";
import { expectBoolean, expectOneOf, expectOptions } from "@capkit/core";
import { build } from "esbuild";

/**
 * Builds the elements into one browser ES module, in memory (esbuild): the module defines them when a page
 * loads it. Servers call this once at start-up and serve the text as `text/javascript`.
 *
 * @param options - which elements, minified or not
 * @returns the module's JavaScript
 * @throws `INPUT_INVALID` for an option of the wrong type or an unknown `entry`
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { bundleCapkitWeb } from "@capkit/web/bundle";
 *
 * const devices = await bundleCapkitWeb(); // or bundleCapkitWeb({ entry: "sogesmart" })
 * createServer((req, res) => {
 *   if (req.url === "/capkit-web.js") res.writeHead(200, { "content-type": "text/javascript" }).end(devices);
 *   else res.writeHead(200, { "content-type": "text/html" }).end(
 *     `<script type="module" src="/capkit-web.js"></script>
 *      <capkit-sesame-reader card-src="/devices/card.json"></capkit-sesame-reader>`,
 *   );
 * }).listen(8080);
 * ```
 */
export async function bundleCapkitWeb(options: BundleOptions = {}): Promise<string> {
  const o = expectOptions<BundleOptions>(options, "the bundle options");
  const minify = expectBoolean(o.minify, "minify") ?? true;
  const kind =
    o.entry === undefined ? "devices" : expectOneOf(o.entry, "the entry", ["devices", "sogesmart"]);
  const file = kind === "sogesmart" ? "./sogesmart/index.js" : "./index.js";
  const entry = fileURLToPath(new URL(file, import.meta.url)).replace(/\.js$/, isSource() ? ".ts" : ".js");
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // From the workspace's sources only: an installed package resolves its dependencies' published builds.
    conditions: isSource() ? ["@capkit/source"] : [],
    minify,
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  return r.outputFiles[0]!.text;
}

function isSource(): boolean {
  return import.meta.url.endsWith(".ts");
}
