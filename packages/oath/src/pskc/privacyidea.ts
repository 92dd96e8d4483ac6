import { NS } from "./model.js";
import type { XmlElement } from "./xml.js";

/**
 * privacyIDEA's PSKC export, read as what it means. privacyIDEA (privacyidea/lib/importotp.py, `export_pskc`)
 * fills an RFC 6030 template and serialises it with BeautifulSoup's HTML parser, which lower-cases every
 * element and attribute name (`<keycontainer version="1.0">`, `<key algorithm=… id=…>`); it writes the HMAC
 * hash as an attribute, `<suite hashalgo="sha256">`, where RFC 6030 §4.3.4 has `<Suite>` text; and its
 * `<TimeDrift>` is its own `timeShift` in seconds (a float such as `-15.0`), where RFC 6030's counts time
 * steps. It is privacyIDEA's only export, so its users' only way out.
 *
 * Such a file is recognised by its root, `keycontainer` in the PSKC namespace — the namespaces are checked as
 * for any file — and rewritten to the RFC's spelling: element and attribute names of the PSKC, XML-DSig,
 * XML-Enc and PKCS #5 vocabularies put back in case, `hashalgo` made the `<Suite>` text, `<TimeDrift>`
 * dropped. The import then reads it like any document, with a warning that it is not conformant.
 */

/** RFC 6030's element names (its schema, Appendix A) and those of the XML-DSig/-Enc and PKCS #5 parts it uses. */
const ELEMENTS = [
  "KeyContainer",
  "EncryptionKey",
  "MACMethod",
  "MACKey",
  "KeyPackage",
  "DeviceInfo",
  "Manufacturer",
  "SerialNo",
  "Model",
  "IssueNo",
  "DeviceBinding",
  "StartDate",
  "ExpiryDate",
  "UserId",
  "CryptoModuleInfo",
  "Id",
  "Key",
  "Issuer",
  "AlgorithmParameters",
  "Suite",
  "ChallengeFormat",
  "ResponseFormat",
  "KeyProfileId",
  "KeyReference",
  "FriendlyName",
  "Data",
  "Secret",
  "Counter",
  "Time",
  "TimeInterval",
  "TimeDrift",
  "PlainValue",
  "EncryptedValue",
  "ValueMAC",
  "Policy",
  "PINPolicy",
  "KeyUsage",
  "NumberOfTransactions",
  "Extensions",
  "KeyName",
  "EncryptionMethod",
  "CipherData",
  "CipherValue",
  "ReferenceList",
  "DataReference",
  "DerivedKey",
  "KeyDerivationMethod",
  "MasterKeyName",
  "PBKDF2-params",
  "Salt",
  "Specified",
  "IterationCount",
  "KeyLength",
  "PRF",
];
const ATTRIBUTES = [
  "Version",
  "Id",
  "Algorithm",
  "Length",
  "Encoding",
  "Format",
  "Min",
  "Max",
  "CheckDigits",
  "URI",
];

const byLowerCase = (names: string[]) => new Map(names.map((n) => [n.toLowerCase(), n]));
const ELEMENT = byLowerCase(ELEMENTS);
const ATTRIBUTE = byLowerCase(ATTRIBUTES);

/** The warning every privacyIDEA file gets. */
export const PRIVACYIDEA_WARNING =
  "not a conformant RFC 6030 file: lower-case element names and <suite hashalgo>, as privacyIDEA exports; read as privacyIDEA's export";

/**
 * When `root` is privacyIDEA's export, the document in RFC 6030's spelling and what was changed; otherwise
 * undefined (the document is read as it is).
 */
export function fromPrivacyIdeaExport(
  root: XmlElement,
): { readonly root: XmlElement; readonly warnings: string[] } | undefined {
  if (root.uri !== NS.pskc || root.local !== "keycontainer") return undefined;
  const warnings = [PRIVACYIDEA_WARNING];
  const rewrite = (el: XmlElement): XmlElement => {
    const local = ELEMENT.get(el.local) ?? el.local;
    const attributes = new Map<string, string>();
    for (const [name, value] of el.attributes) attributes.set(ATTRIBUTE.get(name) ?? name, value);
    let text = el.text;
    if (local === "Suite" && text.trim() === "" && attributes.has("hashalgo")) {
      text = attributes.get("hashalgo")!.toUpperCase();
      attributes.delete("hashalgo");
    }
    const children: XmlElement[] = [];
    for (const c of el.children) {
      const r = rewrite(c);
      if (r.uri === NS.pskc && r.local === "TimeDrift") {
        const drift = r.children[0]?.text.trim() ?? "";
        warnings.push(
          `line ${r.line}: TimeDrift ${drift.slice(0, 20)} is privacyIDEA's timeShift in seconds, not RFC 6030 time steps: not read`,
        );
        continue;
      }
      children.push(r);
    }
    return { uri: el.uri, local, attributes, children, text, line: el.line };
  };
  return { root: rewrite(root), warnings };
}
