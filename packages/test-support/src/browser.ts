import { existsSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
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
