import { readFileSync } from "node:fs";

/**
 * Public test vectors, each file with its source in its `meta`: RFC 9382 Appendix B (SPAKE2), RFC 8785
 * (JCS) examples.
 */
function fixture(name: string) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
}

export interface Rfc9382Vector {
  readonly [field: string]: string;
}
export const RFC9382: { M: string; N: string; vectors: Rfc9382Vector[] } = fixture("rfc9382-vectors.json");
