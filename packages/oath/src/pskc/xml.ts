import { CapkitError } from "@capkit/core";
import { SaxesParser } from "saxes";

/**
 * A small, hardened XML reader for PSKC (https://github.com/capkit/capkit/blob/main/docs/architecture.md §4): saxes in
 * namespace mode, then checks of our own.
 * - no DTD at all (a DOCTYPE is rejected before parsing and by the parser), so no entity other than the five
 *   predefined ones and character references, no external references;
 * - limits on input size, depth, element count, attributes per element, text size (CDATA included) and parse
 *   time, checked as the parser streams;
 * - every element must be in a namespace the caller allows.
 * Anything outside that is a `PSKC_XML_REJECTED` error, quickly.
 */
export interface XmlElement {
  readonly uri: string;
  readonly local: string;
  /** Unqualified attributes by local name (PSKC uses no namespaced attributes that matter). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
  /** The line of its start tag (1-based), for errors a person can find in the file. */
  readonly line: number;
}

/**
 * Bounds on an XML document read by the PSKC importer: past any of them it is refused (`PSKC_XML_REJECTED`)
 * before more is read, so a hostile file costs bounded time and memory.
 */
export interface XmlLimits {
  /** The document's length, in UTF-16 code units (4 MiB by default). */
  readonly maxBytes?: number;
  /** Elements nested in one another (32). */
  readonly maxDepth?: number;
  /** Elements in all (200,000). */
  readonly maxElements?: number;
  /** Characters of one text or CDATA node (65,536). */
  readonly maxTextLength?: number;
  /** Attributes on one element. */
  readonly maxAttributes?: number;
  /** Wall-clock budget for the whole parse, in milliseconds. */
  readonly maxParseMs?: number;
}

const DEFAULTS: Required<XmlLimits> = {
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 32,
  maxElements: 200_000,
  maxTextLength: 65536,
  maxAttributes: 32,
  maxParseMs: 2000,
};

/** The parser is fed this much at a time, so the time budget is checked even inside one long token. */
const CHUNK = 64 * 1024;

function rejected(message: string, line?: number): CapkitError {
  return new CapkitError(
    "PSKC_XML_REJECTED",
    `XML rejected${line !== undefined ? ` at line ${line}` : ""}: ${message}`,
    line !== undefined ? { details: { line } } : {},
  );
}

/**
 * Parses `xml` into an element tree. `allowNamespace(uri, parent)` decides which namespaces are accepted
 * (the parent lets the caller allow unqualified children only where a schema has them).
 */
export function parseXml(
  xml: string,
  allowNamespace: (uri: string, parent: XmlElement | undefined) => boolean,
  limits: XmlLimits = {},
): XmlElement {
  const lim = { ...DEFAULTS, ...limits };
  if (typeof xml !== "string") throw rejected("input is not text");
  if (xml.length > lim.maxBytes) throw rejected(`input larger than ${lim.maxBytes} characters`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw rejected("DTDs and entity declarations are not allowed");

  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let failure: CapkitError | undefined;
  const fail = (e: CapkitError) => {
    failure ??= e;
    throw e;
  };

  const deadline = Date.now() + lim.maxParseMs;
  const inTime = () => {
    if (Date.now() > deadline) fail(rejected(`parsing took longer than ${lim.maxParseMs} ms`, parser.line));
  };
  let attributeCount = 0;
  const addText = (t: string) => {
    inTime();
    const top = stack[stack.length - 1];
    if (!top) return; // whitespace around the root
    if (top.text.length + t.length > lim.maxTextLength)
      fail(rejected(`text longer than ${lim.maxTextLength} characters`, parser.line));
    top.text += t;
  };

  parser.on("doctype", () => fail(rejected("DTDs are not allowed", parser.line)));
  parser.on("opentagstart", () => {
    inTime();
    attributeCount = 0;
  });
  parser.on("attribute", () => {
    if (++attributeCount > lim.maxAttributes)
      fail(rejected(`more than ${lim.maxAttributes} attributes on an element`, parser.line));
  });
  parser.on("opentag", (tag) => {
    inTime();
    if (++elements > lim.maxElements) fail(rejected(`more than ${lim.maxElements} elements`, parser.line));
    if (stack.length >= lim.maxDepth) fail(rejected(`nested deeper than ${lim.maxDepth}`, parser.line));
    const parent = stack[stack.length - 1];
    const uri = tag.uri ?? "";
    if (!allowNamespace(uri, parent))
      fail(rejected(`element <${tag.name}> in namespace "${uri}" is not allowed here`, parser.line));
    const attributes = new Map<string, string>();
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === "" || a.prefix === undefined) attributes.set(a.local, a.value);
    }
    const el: XmlElement = {
      uri,
      local: tag.local ?? tag.name,
      attributes,
      children: [],
      text: "",
      line: parser.line,
    };
    if (parent) parent.children.push(el);
    else if (root) fail(rejected("more than one root element", parser.line));
    else root = el;
    stack.push(el);
  });
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("closetag", () => {
    stack.pop();
  });

  try {
    for (let i = 0; i < xml.length; i += CHUNK) {
      parser.write(xml.slice(i, i + CHUNK));
      inTime();
    }
    parser.close();
  } catch (e) {
    if (failure) throw failure;
    // saxes reports "file:line:column: message"; keep the message, give the line our way.
    const message = (e as Error).message.split("\n")[0]!.replace(/^[^:]*:\d+:\d+: /, "");
    throw rejected(`not well-formed: ${message}`, parser.line);
  }
  if (!root) throw rejected("no root element");
  return root;
}

export function child(el: XmlElement, uri: string, local: string): XmlElement | undefined {
  return el.children.find((c) => c.uri === uri && c.local === local);
}

export function childrenNamed(el: XmlElement, uri: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.uri === uri && c.local === local);
}

/** Text with surrounding whitespace removed. */
export function textOf(el: XmlElement | undefined): string | undefined {
  return el?.text.trim();
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
