/**
 * The attacker of `pnpm bench bank-login`, in its own process (as it would be on its own machine): 32 loops post
 * wrong SOGENET logins for many identifiants from one address, as fast as the server answers, for the given
 * seconds; then prints `{ attempts, throttled }` as JSON.
 *   node --import tsx bench/bank-attacker.ts <bank url> <seconds>
 */
import { HttpVisitor } from "../examples/bank-login/test/http.js";

const [url, seconds] = process.argv.slice(2);
const attacker = new HttpVisitor(url!, { localAddress: "127.0.9.9" });
await attacker.get("/sogenet");
const until = Date.now() + Number(seconds) * 1000;
let attempts = 0;
let throttled = 0;
await Promise.all(
  Array.from({ length: 32 }, async (_, k) => {
    for (let i = 0; Date.now() < until; i++) {
      const r = await attacker.post("/sogenet", {
        user: String(80_000_000 + k * 100_000 + i),
        ...attacker.keypad("000000"),
      });
      attempts++;
      if (r.status === 429) throttled++;
    }
  }),
);
attacker.close();
console.log(JSON.stringify({ attempts, throttled }));
