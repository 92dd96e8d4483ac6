import { readFileSync } from "node:fs";

/**
 * Public EMV-CAP test vectors (pyemv, python-emv, MISC-056, FC 2009, EMV-CAP, emvlab via openauth-sim,
 * EFTlab, FIPS 46), copied from the project's research set with every entry's source kept.
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture, shape checked by the tests that read it
export const V: any = JSON.parse(
  readFileSync(new URL("./fixtures/emv-cap-vectors.json", import.meta.url), "utf8"),
);

// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
export function byId(section: string, id: string): any {
  // biome-ignore lint/suspicious/noExplicitAny: JSON fixture
  const found = V[section].find((e: any) => e.id === id);
  if (!found) throw new Error(`no vector ${id} in ${section}`);
  return found;
}
