import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SMARTCARD_LIST_PATHS } from "./smartcard-list.js";

/**
 * What the diagnosis reads from the machine besides PC/SC itself: package versions, the installed reader
 * drivers and pcsc-tools' card list. An interface so tests can give a machine of their own.
 */
export interface SystemProbe {
  /** "1.9.9" from `pcscd --version`, or undefined when pcscd is not installed. */
  pcscdVersion(): string | undefined;
  /** The libpcsclite package version (Debian: dpkg; elsewhere pkg-config), when it can be found. */
  libpcscliteVersion(): string | undefined;
  /** The installed reader drivers: reader.conf entries and USB bundles. */
  readerDrivers(): ReaderDriver[];
  /** The text of smartcard_list.txt, when pcsc-tools (or a user's copy) is there. */
  smartcardList(): string | undefined;
}

/** An installed reader driver. */
export interface ReaderDriver {
  /** A serial/virtual reader's FRIENDLYNAME from reader.conf (the reader name starts with it); none for USB. */
  readonly friendlyName?: string;
  /** The driver's name (`ifd-ccid`, `vpcd`). */
  readonly name: string;
  /** Its version, when its bundle says. */
  readonly version?: string;
  /** Where it is installed. */
  readonly path: string;
}

const run = (cmd: string, args: string[]): string | undefined => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
  } catch (e) {
    // pcscd --version exits 0, but some builds print to stderr or exit non-zero: keep what was printed.
    const out = (e as { stdout?: string; stderr?: string }).stdout || (e as { stderr?: string }).stderr;
    return out || undefined;
  }
};

/** `--config DIR` of running pcscd processes (tests and some set-ups use their own reader.conf directory). */
function pcscdConfigDirs(): string[] {
  const dirs: string[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return dirs;
  }
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv[0]?.endsWith("pcscd")) continue;
      const i = argv.findIndex((a) => a === "--config" || a === "-c");
      if (i >= 0 && argv[i + 1]) dirs.push(argv[i + 1]!);
    } catch {
      // a process that ended meanwhile, or not ours to read
    }
  }
  return dirs;
}

function readerConfEntries(dir: string): ReaderDriver[] {
  let files: string[] = [];
  try {
    files = existsSync(dir) ? readdirSync(dir) : [];
  } catch {
    return [];
  }
  const found: ReaderDriver[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), "utf8");
    } catch {
      continue;
    }
    const friendly = /^\s*FRIENDLYNAME\s+"([^"]+)"/m.exec(text)?.[1];
    const lib = /^\s*LIBPATH\s+(\S+)/m.exec(text)?.[1];
    if (!friendly || !lib) continue;
    const base = lib.split("/").pop()!;
    found.push({
      friendlyName: friendly,
      name: base === "libifdvpcd.so" ? "vpcd (vsmartcard virtual reader)" : base,
      path: lib,
    });
  }
  return found;
}

function usbBundles(dir = "/usr/lib/pcsc/drivers"): ReaderDriver[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".bundle"));
  } catch {
    return [];
  }
  return names.map((n) => {
    const plist = join(dir, n, "Contents", "Info.plist");
    let version: string | undefined;
    try {
      version = /<key>CFBundleShortVersionString<\/key>\s*<string>([^<]+)<\/string>/.exec(
        readFileSync(plist, "utf8"),
      )?.[1];
    } catch {
      // no Info.plist: name only
    }
    return { name: n.replace(/\.bundle$/, ""), ...(version ? { version } : {}), path: join(dir, n) };
  });
}

/** This machine, read through its commands and files (`pcscd --version`, dpkg, reader.conf, the card list). */
export const systemProbe: SystemProbe = {
  pcscdVersion() {
    const out = run("pcscd", ["--version"]) ?? run("/usr/sbin/pcscd", ["--version"]);
    return out ? /pcsc-lite version ([0-9][0-9.]*[0-9])/.exec(out)?.[1] : undefined;
  },
  libpcscliteVersion() {
    const dpkg = run("dpkg-query", ["-W", "-f", `\${Version}`, "libpcsclite1"]);
    if (dpkg && /^[0-9]/.test(dpkg.trim())) return dpkg.trim();
    const pc = run("pkg-config", ["--modversion", "libpcsclite"]);
    return pc && /^[0-9]/.test(pc.trim()) ? pc.trim() : undefined;
  },
  readerDrivers() {
    const conf = ["/etc/reader.conf.d", ...pcscdConfigDirs()].flatMap(readerConfEntries);
    return [...conf, ...usbBundles()];
  },
  smartcardList() {
    for (const p of SMARTCARD_LIST_PATHS) {
      try {
        return readFileSync(p, "utf8");
      } catch {
        // next place
      }
    }
    return undefined;
  },
};

/** The driver serving `reader`: the reader.conf entry it is named after, else the USB driver(s) installed. */
export function driverFor(reader: string, drivers: readonly ReaderDriver[]): string {
  const conf = drivers
    .filter((d) => d.friendlyName !== undefined && reader.startsWith(d.friendlyName))
    .sort((a, b) => b.friendlyName!.length - a.friendlyName!.length)[0];
  const show = (d: ReaderDriver) => `${d.name}${d.version ? ` ${d.version}` : ""}`;
  if (conf) return `${show(conf)} (${conf.path})`;
  const usb = drivers.filter((d) => d.friendlyName === undefined);
  if (usb.length === 0) return "unknown (no USB reader driver installed: apt-get install libccid)";
  return `${usb.map(show).join(" or ")} (USB)`;
}
