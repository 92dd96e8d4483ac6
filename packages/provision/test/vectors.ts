import { readFileSync } from "node:fs";

/**
 * Public test vectors, each file with its source in its `meta`: RFC 9382 Appendix B (SPAKE2), RFC 8785
 * (JCS) examples.
 */
function fixture(name: string) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
}

export interface Rfc9382Vector {
  readonly A: string;
  readonly B: string;
  readonly w: string;
  readonly x: string;
  readonly y: string;
  readonly pA: string;
  readonly pB: string;
  readonly K: string;
  readonly TT: string;
  readonly HashTT: string;
  readonly Ke: string;
  readonly Ka: string;
  readonly KcA: string;
  readonly KcB: string;
  readonly A_conf: string;
  readonly B_conf: string;
}
export const RFC9382: { M: string; N: string; vectors: Rfc9382Vector[] } = fixture("rfc9382-vectors.json");

export const RFC8785: {
  section_3_2_2: { input: string; output: string };
  section_3_2_3: { input: string; output: string };
} = fixture("rfc8785-examples.json");
