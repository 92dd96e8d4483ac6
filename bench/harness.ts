import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { Bench } from "tinybench";

/**
 * Runs one suite of cases in the same process, round-robin by tinybench, and returns a Markdown table of
 * median throughput with each case's ratio to the suite's baseline. Compare ratios, not absolute ops/s:
 * single samples on this 2-core VM vary by ±20 %.
 */
export interface BenchCase {
  readonly name: string;
  readonly fn: () => unknown;
}

export interface SuiteResult {
  readonly rows: { name: string; opsPerSec: number; rme: number }[];
  readonly markdown: string;
}

const TIME_MS = Number(process.env["BENCH_TIME_MS"] ?? 1000);

export async function runSuite(
  title: string,
  baseline: string,
  cases: readonly BenchCase[],
): Promise<SuiteResult> {
  const bench = new Bench({ time: TIME_MS, warmupTime: 200 });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== "completed") throw new Error(`benchmark ${t.name} did not complete: ${r.state}`);
    return { name: t.name, opsPerSec: r.throughput.p50, rme: r.throughput.rme };
  });
  const base = rows.find((r) => r.name === baseline)?.opsPerSec;
  if (!base) throw new Error(`baseline ${baseline} missing`);
  const lines = [
    `### ${title}`,
    "",
    "| case | median ops/s | ± % | ratio to baseline |",
    "|---|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.name}${r.name === baseline ? " (baseline)" : ""} | ${Math.round(r.opsPerSec).toLocaleString("en-US")} | ${r.rme.toFixed(1)} | ${(r.opsPerSec / base).toFixed(2)}× |`,
    ),
    "",
  ];
  console.log(lines.join("\n"));
  return { rows, markdown: lines.join("\n") };
}

export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export function ratio(result: SuiteResult, a: string, b: string): number {
  const get = (n: string) => result.rows.find((r) => r.name === n)?.opsPerSec ?? Number.NaN;
  return get(a) / get(b);
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `Node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Replaces the section between `<!-- bench:ID -->` markers in docs/benchmarks.md, adding it if new. */
export function writeSection(id: string, markdown: string): void {
  const path = new URL("../docs/benchmarks.md", import.meta.url);
  let doc: string;
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    doc =
      "# capkit benchmarks\n\nWritten by `pnpm bench` (bench/); every figure comes from a run on the machine named in its section.\n";
  }
  const start = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, doc);
}
