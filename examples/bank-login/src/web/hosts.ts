import { isIP } from "node:net";

/**
 * The one place that says which names this server answers to (DNS rebinding: a page on evil.example whose name
 * is made to resolve to 127.0.0.1 reaches the server with `Host: evil.example`, and must get nothing).
 *
 * - `Host` must be one of the server's own names with its port: refused with 421 otherwise.
 * - A request that changes something (POST) must come from one of those origins: `Origin`, when the browser
 *   sends it, must match, and `Sec-Fetch-Site: cross-site` is refused.
 * The names: loopback ones by default (`127.0.0.1`, `localhost`, `[::1]`, and the two spaces of the passerelle,
 * `pro.localhost` for Progéliance Net and `perso.localhost` for Particuliers: Chromium resolves `*.localhost`
 * to loopback itself and keeps their cookies apart), plus those given (BANK_HOSTS) beyond loopback.
 */
export const LOOPBACK_NAMES = [
  "127.0.0.1",
  "localhost",
  "[::1]",
  "pro.localhost",
  "perso.localhost",
] as const;

export class Hosts {
  readonly #hosts: ReadonlySet<string>;
  readonly #origins: ReadonlySet<string>;

  constructor(names: readonly string[], port: number) {
    const hosts = [...new Set([...LOOPBACK_NAMES, ...names].map((n) => n.toLowerCase()))].map(
      (n) => `${n}:${port}`,
    );
    this.#hosts = new Set(hosts);
    this.#origins = new Set(hosts.flatMap((h) => [`http://${h}`, `https://${h}`]));
  }

  /** The names served, for the banner. */
  get names(): readonly string[] {
    return [...this.#hosts];
  }

  allowsHost(host: string | undefined): boolean {
    return host !== undefined && this.#hosts.has(host.toLowerCase());
  }

  /** A state-changing request's provenance: no foreign `Origin`, not cross-site. */
  allowsWriteFrom(origin: string | undefined, fetchSite: string | undefined): boolean {
    if (fetchSite === "cross-site") return false;
    return origin === undefined || this.#origins.has(origin.toLowerCase());
  }
}

/** True for an address or name that only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1";
}
