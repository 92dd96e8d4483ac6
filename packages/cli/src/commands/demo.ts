import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { Run } from "../shared/output.js";
import { DEFAULT_DB } from "../shared/store.js";
import { openVerifier } from "./verify.js";

/**
 * The main job, end to end with no hardware and no server: a simulated Sésame card and reader, the PIN typed,
 * the code shown as `1234 5678`, verified on the embedded SQLite store; then the same code replayed (rejected),
 * five wrong codes (the fifth locks), and a fresh valid code refused while locked.
 */
export function registerDemo(program: Command, run: Run): void {
  program
    .command("demo")
    .description("simulated Sésame card + reader → code → verified on SQLite; replay and lockout shown")
    .option("--db <file>", "SQLite file to use (default: a temporary one, removed afterwards)")
    .action((o: { db?: string }) =>
      run(async (out) => {
        const ts = await import("@capkit/token-sim");
        const dir = o.db ? undefined : mkdtempSync(join(tmpdir(), "capkit-demo-"));
        const db = o.db ?? join(dir!, DEFAULT_DB);
        // The demo's keys live in memory only: nothing to leave behind, nothing beside the database.
        const v = await import("@capkit/verify");
        const keys = new v.SoftwareKeyProvider(
          v.SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }),
        );
        const { verifier, close } = await openVerifier({ db }, out, true, keys);
        try {
          const card = new ts.SimulatedCard(ts.newSimCardState("sesame", "1234"));
          const id = `demo-card-${card.state.pan.slice(-4)}`;
          await verifier.enroll({ id, kind: "cap", record: card.issuerRecord() });
          out.info(
            `1. Bank: enrolled a simulated Sésame card (${card.profile.aid}, ${card.profile.cryptogramVersion}) on ${db}`,
          );

          // The reader runs on a fake clock: the demo shows its 35 s display without waiting for it.
          const clock = new ts.FakeClock();
          const reader = new ts.SesameReader({ clock });
          const shown: string[] = [];
          reader.onScreen((s) => {
            if (s.state !== "off") shown.push(lcd(s.lines));
          });
          const code = async () => {
            reader.insertCard(card);
            for (const k of ["OK", "1", "2", "3", "4", "OK"] as const) reader.press(k);
            await reader.settled();
            const c = reader.screen.code!;
            reader.removeCard();
            return c;
          };
          const first = await code();
          out.info("2. Customer: card in, function CODE, PIN 1234 typed on the reader:");
          out.info([shown[0], shown.find((l) => l.includes("****")), shown[shown.length - 1]].join("\n"));
          const display = `${first.slice(0, 4)} ${first.slice(4)}`;

          const accepted = await verifier.verify({ id, code: display });
          out.info(`3. Bank checks "${display}": ${accepted.result} (ATC ${accepted.counter})`);
          const replay = await verifier.verify({ id, code: display });
          out.info(
            `4. The same code again: ${replay.result}${replay.replayed ? " (a replay: one-time use, not counted as a guess)" : ""}`,
          );
          const wrong: string[] = [];
          for (let i = 0; i < 5; i++)
            wrong.push((await verifier.verify({ id, code: String(10_000_000 + i) })).result);
          out.info(`5. Five wrong codes (failures 1–5): ${wrong.join(", ")}`);
          const fresh = await code();
          const afterLock = await verifier.verify({ id, code: fresh });
          out.info(
            `6. A fresh, valid code while locked: ${afterLock.result} (until an administrator runs capkit verify unlock)`,
          );

          const ok =
            accepted.result === "accepted" &&
            replay.result === "rejected" &&
            replay.replayed === true &&
            wrong.slice(0, 4).every((r) => r === "rejected") &&
            wrong[4] === "locked" &&
            afterLock.result === "locked";
          out.result(
            {
              code: first,
              display,
              verified: accepted.result,
              atc: accepted.counter,
              replay: replay.result,
              wrongCodes: wrong,
              freshCodeWhileLocked: afterLock.result,
              ok,
            },
            ok
              ? `\n${lcd(["CODE", display])}\nDemo complete: accepted once, replay rejected, locked after 5 consecutive failures.`
              : "Demo FAILED: see above",
          );
          return ok ? 0 : 1;
        } finally {
          await close();
          if (dir) rmSync(dir, { recursive: true, force: true });
        }
      }),
    );
}

function lcd(lines: readonly string[]): string {
  const pad = (t: string) => (t ?? "").padEnd(16).slice(0, 16);
  return [
    "  ┌──────────────────┐",
    `  │ ${pad(lines[0]!)} │`,
    `  │ ${pad(lines[1]!)} │`,
    "  └──────────────────┘",
  ].join("\n");
}
