/**
 * Browser bundle sizes: what a web page pays for capkit's pure cores, against otpauth (the common TOTP
 * library for browsers). esbuild, browser platform, ESM, minified, tree-shaken from the entry's imports;
 * gzip level 9 as a server would send it. Sizes, not timings: the figures are exact for the versions bundled.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { writeSection } from "./harness.js";

interface Entry {
  readonly name: string;
  readonly source: string;
}

const ENTRIES: readonly Entry[] = [
  {
    name: "capkit `@capkit/oath`: TOTP only (`HmacKey`, `totp`, `base32Decode`)",
    source: `import { base32Decode, HmacKey, totp } from "@capkit/oath";
export const code = (secret, time) => totp(new HmacKey(base32Decode(secret), "SHA1", { allowShortSecret: true }), time);`,
  },
  {
    name: "otpauth: TOTP only (`TOTP`, `Secret`)",
    source: `import { Secret, TOTP } from "otpauth";
export const code = (secret, time) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: time * 1000 });`,
  },
  {
    name: "capkit `@capkit/oath`: everything (HOTP, TOTP, OCRA, URIs, PSKC)",
    source: `export * from "@capkit/oath";`,
  },
  {
    name: "otpauth: everything",
    source: `export * from "otpauth";`,
  },
  {
    name: "capkit `@capkit/emv-cap` + `@capkit/oath`: everything",
    source: `export * from "@capkit/emv-cap";\nexport * from "@capkit/oath";`,
  },
  {
    name: "capkit `@capkit/emv-cap`: CAP code from a card (`generateCapCode`, `readerProfile`)",
    source: `export { generateCapCode, readerProfile } from "@capkit/emv-cap";`,
  },
];

async function bundle(source: string): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents: source, resolveDir: new URL(".", import.meta.url).pathname, loader: "js" },
    bundle: true,
    platform: "browser",
    format: "esm",
    minify: true,
    write: false,
    // The workspace's TypeScript sources, as in every benchmark; the published dist/ is the same code.
    conditions: ["@capkit/source"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.contents;
}

function version(pkg: string): string {
  const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

export async function bundleSizeSuite(): Promise<string> {
  const rows: string[] = [];
  for (const e of ENTRIES) {
    const code = await bundle(e.source);
    const gz = gzipSync(code, { level: 9 }).length;
    rows.push(`| ${e.name} | ${code.length.toLocaleString("en")} | ${gz.toLocaleString("en")} |`);
    console.log(`${e.name}: ${code.length} B minified, ${gz} B gzip`);
  }
  const { version: esbuildVersion } = await import("esbuild");
  const md = `## Browser bundle sizes

esbuild ${esbuildVersion} (browser, ESM, minified, tree-shaken), gzip -9; capkit ${version("@capkit/oath")},
otpauth ${version("otpauth")}; ${new Date().toISOString().slice(0, 10)}. No Node built-in is pulled in (the
packed-install test fails the build if one is).

| bundle | minified bytes | gzip bytes |
|---|---:|---:|
${rows.join("\n")}
`;
  writeSection("bundle-size", md);
  return md;
}
