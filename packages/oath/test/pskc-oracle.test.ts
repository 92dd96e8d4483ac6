import { fromHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import { importPskc } from "../src/index.js";
import { OTP } from "./vectors.js";

/**
 * No padding oracle in PSKC import (RFC 6030 §6.1.1: the ValueMAC covers IV ‖ ciphertext and is checked
 * first). The example document is RFC 6030 Figure 6 (AES-128-CBC, HMAC-SHA1 ValueMAC, pre-shared key).
 */
const f = OTP.rfc6030_examples.figure6;
const psk = fromHex(f.expect.preSharedKeyHex);

function codeOf(run: () => unknown): string {
  try {
    run();
    return "no error";
  } catch (e) {
    return (e as { code?: string }).code ?? "untyped";
  }
}

/** The document with byte `index` of the n-th CipherValue's decoded bytes set to `value`. */
function tamper(xml: string, n: number, index: (length: number) => number, value: number): string {
  const values = [...xml.matchAll(/<xenc:CipherValue>\s*([^<]+?)\s*<\/xenc:CipherValue>/g)].map((m) => m[1]!);
  const raw = Buffer.from(values[n]!, "base64");
  raw[index(raw.length)] = value;
  return xml.replace(values[n]!, raw.toString("base64"));
}

describe("PSKC import answers one error code on any MAC mismatch", () => {
  it("256 values of a byte of the secret's last ciphertext block: one and the same code", () => {
    const codes = new Set<string>();
    // The last block's first byte: CBC turns it into the last plaintext byte's partner — the padding.
    for (let v = 0; v < 256; v++) {
      const xml = tamper(f.xml, 1, (len) => len - 16, v);
      codes.add(codeOf(() => importPskc(xml, { preSharedKey: psk })));
    }
    // One of the 256 values is the original byte (the import succeeds); every other one is the same error.
    expect([...codes].sort()).toEqual(["PSKC_MAC_INVALID", "no error"]);
  });

  it("256 tamperings of the second-to-last block (the bytes the padding check reads): one code", () => {
    const codes = new Set<string>();
    for (let v = 0; v < 256; v++) {
      const xml = tamper(f.xml, 1, (len) => len - 17, v);
      codes.add(codeOf(() => importPskc(xml, { preSharedKey: psk })));
    }
    expect([...codes].sort()).toEqual(["PSKC_MAC_INVALID", "no error"]);
  });

  it("a tampered MACKey or a wrong pre-shared key: the same code, never PSKC_DECRYPT_FAILED", () => {
    const codes = new Set<string>();
    for (let v = 0; v < 256; v++) {
      const xml = tamper(f.xml, 0, (len) => len - 17, v);
      codes.add(codeOf(() => importPskc(xml, { preSharedKey: psk })));
    }
    for (let b = 0; b < 64; b++) {
      const wrong = psk.slice();
      wrong[b % 16] = psk[b % 16]! ^ (1 + (b >> 4));
      codes.add(codeOf(() => importPskc(f.xml, { preSharedKey: wrong })));
    }
    expect([...codes].sort()).toEqual(["PSKC_MAC_INVALID", "no error"]);
  });
});

describe("PSKC XML limits", () => {
  const doc = (inner: string) =>
    `<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">${inner}</KeyContainer>`;

  it("CDATA counts toward the text limit", () => {
    const big = `<KeyPackage><Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Issuer><![CDATA[${"x".repeat(70_000)}]]></Issuer></Key></KeyPackage>`;
    expect(codeOf(() => importPskc(doc(big)))).toBe("PSKC_XML_REJECTED");
    const split = `<KeyPackage><Key Id="1" Algorithm="a"><Issuer>${"<![CDATA[xxxxxxxxxx]]>".repeat(7000)}</Issuer></Key></KeyPackage>`;
    expect(codeOf(() => importPskc(doc(split)))).toBe("PSKC_XML_REJECTED");
  });

  it("an element with too many attributes is rejected", () => {
    const attrs = Array.from({ length: 1000 }, (_, i) => `a${i}="1"`).join(" ");
    expect(codeOf(() => importPskc(doc(`<KeyPackage ${attrs}/>`)))).toBe("PSKC_XML_REJECTED");
    expect(codeOf(() => importPskc(doc("<KeyPackage/>"), { limits: { maxAttributes: 0 } }))).toBe(
      "PSKC_XML_REJECTED",
    );
  });

  it("the parse-time budget holds for a document within the size limits", () => {
    const many = "<KeyPackage/>".repeat(150_000);
    expect(codeOf(() => importPskc(doc(many), { limits: { maxParseMs: 0 } }))).toBe("PSKC_XML_REJECTED");
  });
});
