import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/**
 * The client's address as the throttles key it: the socket's peer (a bank behind a reverse proxy must take it
 * from the proxy's header instead, and trust only that proxy), IPv4-mapped IPv6 as IPv4, and IPv6 by /64 — one
 * subscriber usually holds a whole /64, so single IPv6 addresses would be free for the asking.
 */
export function clientAddress(c: Context): string {
  const a = (getConnInfo(c).remote.address ?? "unknown").toLowerCase();
  if (a.startsWith("::ffff:") && a.includes(".")) return a.slice(7);
  if (!a.includes(":")) return a;
  const groups = expandIpv6(a);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIpv6(a: string): string[] {
  const [head, tail] = a.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  return [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
}
