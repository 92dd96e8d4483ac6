import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";
import { type Bank, openBank } from "./bank.js";
import { loadAssets } from "./spaces/common.js";
import { Faults } from "./web/faults.js";
import { Hosts, isLoopback } from "./web/hosts.js";

export interface BankServerOptions {
  readonly dataDir: string;
  readonly port?: number;
  /** The address to listen on: loopback by default. Anything else gets a warning (`warnings`). */
  readonly host?: string;
  /** More names this server answers to (BANK_HOSTS), besides the loopback ones. */
  readonly hostNames?: readonly string[];
  /** `Secure` cookies with the `__Host-` prefix, and HSTS (behind HTTPS). */
  readonly secureCookies?: boolean;
  /** Milliseconds since the epoch; injectable for tests (sessions, throttles, keypad expiry, the verifier). */
  readonly now?: () => number;
  /** How long a client may take to send its headers, and its whole request (default 10 s and 15 s). */
  readonly timeouts?: { readonly headersMs?: number; readonly requestMs?: number };
  /** SogeSmart's settings (SOGESMART_LEGACY, SOGESMART_MIN_APP_VERSION; the SMS rate for tests). */
  readonly sogesmart?: {
    readonly legacySharedPassword?: boolean;
    readonly minAppVersion?: string;
    readonly startIntervalSeconds?: number;
  };
}

export interface BankServer {
  readonly url: string;
  readonly bank: Bank;
  /** The Host names served (with the port). */
  readonly hostNames: readonly string[];
  /** What the operator must know: a server bound beyond loopback. */
  readonly warnings: readonly string[];
  /** Tests only: make the server hold requests without answering (web/faults.ts). */
  readonly faults: Faults;
  close(): Promise<void>;
}

/**
 * Slow clients hold no connection for long: the headers within 10 s, the whole request within 15 s (Node's own
 * defaults are 60 s and 300 s), checked every second (Node's default: every 30 s).
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;

export async function startBankServer(o: BankServerOptions): Promise<BankServer> {
  const now = o.now ?? Date.now;
  const bank = await openBank(o.dataDir, { create: true, now, ...(o.sogesmart ?? {}) });
  const faults = new Faults();
  const assets = await loadAssets();
  const host = o.host ?? "127.0.0.1";
  let app: ReturnType<typeof createApp> | undefined;
  const server = serve({
    fetch: (req, env) => app!.fetch(req, env),
    port: o.port ?? 0,
    hostname: host,
    serverOptions: {
      headersTimeout: o.timeouts?.headersMs ?? HEADERS_TIMEOUT_MS,
      requestTimeout: o.timeouts?.requestMs ?? REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    },
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const names = [
    ...(o.hostNames ?? []),
    ...(isLoopback(host) || host === "0.0.0.0" || host === "::" ? [] : [host]),
  ];
  const hosts = new Hosts(names, port);
  bank.passerelle.serve({ pro: `http://pro.localhost:${port}`, perso: `http://perso.localhost:${port}` });
  app = createApp({ bank, hosts, assets, secureCookies: o.secureCookies ?? false, now, faults });
  const warnings = isLoopback(host)
    ? []
    : [
        `listening on ${host}, beyond loopback: other machines can reach this demo bank, which hands every ` +
          "browser simulated cards and tokens with their keys. It answers only to the names " +
          `${hosts.names.join(", ")} (BANK_HOSTS adds more).`,
      ];
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : urlHost}:${port}`,
    bank,
    hostNames: hosts.names,
    warnings,
    faults,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bank.close();
    },
  };
}
