import { Agent, request } from "node:http";
import { fromHex } from "@capkit/core";
import { HmacKey, totp } from "@capkit/oath";
import {
  FakeClock,
  parseSimCardState,
  SesameReader,
  type SimCardState,
  SimulatedCard,
} from "@capkit/token-sim";

/**
 * A browser without the browser, for the bank's HTTP tests: a cookie jar, the CSRF token of the last page, the
 * shuffled keypad read the way a person reads it (digit → the cell it is in), and — for the throttling tests —
 * the loopback address it comes from (127.0.0.2 and up are other machines to the server).
 */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export interface Demo {
  readonly coopanet: string;
  readonly sogenetPassword: string;
  readonly sogenetSgpass: string;
}

export class HttpVisitor {
  readonly #base: URL;
  readonly #agent: Agent;
  readonly #localAddress: string | undefined;
  readonly cookies = new Map<string, string>();
  /** The last page's CSRF token and keypad (layout id and digit → cell). */
  csrf = "";
  layout = "";
  cells = new Map<string, string>();
  #card: CardInHand | undefined;

  constructor(base: string, o: { localAddress?: string; host?: string } = {}) {
    this.#base = new URL(base);
    this.#agent = new Agent({ keepAlive: true, maxSockets: 32 });
    this.#localAddress = o.localAddress;
    this.host = o.host;
  }

  host: string | undefined;

  async send(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const a = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          agent: this.#agent,
          ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
          headers: {
            ...(this.host ? { host: this.host } : {}),
            ...(cookie ? { cookie } : {}),
            ...(body !== undefined
              ? {
                  "content-type": "application/x-www-form-urlencoded",
                  "content-length": Buffer.byteLength(body),
                }
              : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString(),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    for (const c of [a.headers["set-cookie"] ?? []].flat()) {
      const [pair] = c.split(";");
      const [k, v] = pair!.split("=") as [string, string];
      if (/Max-Age=0/i.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(a.text)?.[1];
    if (csrf) this.csrf = csrf;
    const layout = /name="layout" value="([^"]+)"/.exec(a.text)?.[1];
    if (layout) {
      this.layout = layout;
      this.cells = new Map(
        [...a.text.matchAll(/data-cell="([0-9a-f])">([0-9])</g)].map((m) => [m[2]!, m[1]!]),
      );
    }
    return a;
  }

  get(path: string): Promise<Answer> {
    return this.send("GET", path);
  }

  /** Posts a form with this visitor's CSRF token. */
  post(path: string, fields: Record<string, string>): Promise<Answer> {
    return this.send("POST", path, new URLSearchParams({ _csrf: this.csrf, ...fields }).toString());
  }

  /** The keypad fields that type this password on the last page's layout. */
  keypad(password: string): Record<string, string> {
    return { layout: this.layout, cells: [...password].map((d) => this.cells.get(d) ?? "").join("") };
  }

  /** This browser's demo customers (made on first call). */
  async demo(): Promise<Demo> {
    let page = await this.get("/sogenet");
    if (!page.text.includes('data-demo="sogenet-password"')) {
      await this.post("/demo", { back: "/sogenet" });
      page = await this.get("/sogenet");
    }
    const id = (k: string) => new RegExp(`data-demo="${k}">([^<]+)<`).exec(page.text)![1]!;
    const coopanet = /data-demo="coopanet">([^<]+)</.exec((await this.get("/coopanet")).text)![1]!;
    return { coopanet, sogenetPassword: id("sogenet-password"), sogenetSgpass: id("sogenet-sgpass") };
  }

  /** The next code of this browser's Sésame card (CODE function, PIN 1234), as the reader shows it. */
  async cardCode(): Promise<string> {
    if (!this.#card) {
      const r = await this.get("/devices/card.json");
      this.#card = new CardInHand(parseSimCardState(JSON.parse(r.text) as SimCardState));
    }
    return this.#card.code();
  }

  /** The code this browser's SGpass shows now. */
  async sgpassCode(at = Date.now()): Promise<string> {
    const r = JSON.parse((await this.get("/devices/sgpass.json")).text) as { secretHex: string };
    return totp(new HmacKey(fromHex(r.secretHex)), Math.floor(at / 1000));
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** A simulated card in a simulated Sésame reader on a fake clock: CODE, PIN, OK → the code. */
class CardInHand {
  readonly #card: SimulatedCard;
  readonly #reader = new SesameReader({ clock: new FakeClock() });

  constructor(state: SimCardState) {
    this.#card = new SimulatedCard(state);
  }

  async code(): Promise<string> {
    this.#reader.insertCard(this.#card);
    for (const k of ["OK", "1", "2", "3", "4", "OK"] as const) this.#reader.press(k);
    await this.#reader.settled();
    const code = this.#reader.screen.code!;
    this.#reader.removeCard();
    return `${code.slice(0, 4)} ${code.slice(4)}`;
  }
}

/** A page's text without what changes at every display (tokens, keypad): to compare two answers. */
export function stable(text: string): string {
  return text
    .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value=""')
    .replace(/name="layout" value="[^"]+"/g, 'name="layout" value=""')
    .replace(/<div class="grid" role="group"[\s\S]*?<\/div>/g, "<div grid>")
    .replace(/data-demo="[^"]+">[^<]+</g, "data-demo><")
    .replace(/unlock [0-9A-Z]{8}/g, "unlock");
}

/** The visitors a test makes, all closed after it: `const visitor = visitors(() => bank.url)`. */
export function visitors(base: () => string): {
  (o?: ConstructorParameters<typeof HttpVisitor>[1]): HttpVisitor;
  closeAll(): void;
} {
  const all: HttpVisitor[] = [];
  const make = (o?: ConstructorParameters<typeof HttpVisitor>[1]) => {
    const v = new HttpVisitor(base(), o);
    all.push(v);
    return v;
  };
  const closeAll = () => {
    for (const v of all.splice(0)) v.close();
  };
  return Object.assign(make, { closeAll });
}
