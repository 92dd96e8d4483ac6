import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

/**
 * Debian's Chromium, driven by Playwright (scripts/setup.sh installs the `chromium` package; Playwright never
 * downloads a browser here). Missing, the tests fail and say how to fix it: never a skip.
 */
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run "sh scripts/setup.sh" (installs Debian's chromium package)`);
  }
  return chromium.launch({ executablePath: CHROMIUM });
}

/** axe-core's WCAG rules on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page): Promise<void> {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${page.url()}`).toEqual([]);
}

/** The made-up origin the bare pages are served from (Playwright's router answers it; localStorage works there). */
export const TEST_ORIGIN = "http://capkit.test";

/** What {@link openBundledPage} puts on a page. */
export interface BundledPageOptions {
  /** The package to bundle (`@capkit/provision`), resolved from `from` with the workspace's source condition. */
  readonly module: string;
  /** Its exports put on `window.capkit`. */
  readonly names: readonly string[];
  /** The test's `import.meta.url`: where `module` is resolved from. */
  readonly from: string;
  /** The page's title and heading. */
  readonly title: string;
}

/**
 * A bare page in Debian's Chromium with some exports of a workspace package, bundled for the browser platform
 * (esbuild: a Node built-in pulled in fails the bundle), on `window.capkit`: what a bank's page or a customer's
 * own tool runs offline. The page is ready when this resolves; close the browser in `afterAll`.
 */
export async function openBundledPage(o: BundledPageOptions): Promise<{ browser: Browser; page: Page }> {
  const [launched, bundled] = await Promise.allSettled([
    launchChromium(),
    build({
      stdin: {
        contents: `import { ${o.names.join(", ")} } from "${o.module}"; window.capkit = { ${o.names.join(", ")} };`,
        resolveDir: fileURLToPath(new URL(".", o.from)),
        loader: "js",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      conditions: ["@capkit/source"],
      logLevel: "silent",
    }),
  ]);
  if (launched.status === "rejected" || bundled.status === "rejected") {
    if (launched.status === "fulfilled") await launched.value.close();
    throw launched.status === "rejected" ? launched.reason : (bundled as PromiseRejectedResult).reason;
  }
  const browser = launched.value;
  const js = bundled.value.outputFiles[0]!.text;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${o.title}</title>
<script type="module" src="/bundle.js"></script></head><body><main><h1>${o.title}</h1></main></body></html>`;
  try {
    const context = await browser.newContext();
    await context.route(`${TEST_ORIGIN}/**`, (route) => {
      const isJs = route.request().url().endsWith("/bundle.js");
      return route.fulfill({ contentType: isJs ? "text/javascript" : "text/html", body: isJs ? js : html });
    });
    const page = await context.newPage();
    await page.goto(`${TEST_ORIGIN}/`);
    await page.waitForFunction(() => "capkit" in globalThis);
    return { browser, page };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
