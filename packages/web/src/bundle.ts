import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * The elements as one browser ES module, built in memory (esbuild) from the sources: a page needs one
 * <script type="module" src=…> and no build step of its own. Servers call this once at start-up. `entry`:
 * `devices` (default: `<capkit-sesame-reader>`, `<capkit-sgpass-token>`) or `sogesmart`
 * (`<capkit-sogesmart-app>`, `<capkit-sms-inbox>`, with the P-256 curve and the activation protocol inside:
 * kept apart so that the devices' pages do not load them).
 */
export async function bundleCapkitWeb(
  options: { minify?: boolean; entry?: "devices" | "sogesmart" } = {},
): Promise<string> {
  const file = options.entry === "sogesmart" ? "./sogesmart/index.js" : "./index.js";
  const entry = fileURLToPath(new URL(file, import.meta.url)).replace(/\.js$/, isSource() ? ".ts" : ".js");
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // From the workspace's sources only: an installed package resolves its dependencies' published builds.
    conditions: isSource() ? ["@capkit/source"] : [],
    minify: options.minify ?? true,
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  return r.outputFiles[0]!.text;
}

function isSource(): boolean {
  return import.meta.url.endsWith(".ts");
}
