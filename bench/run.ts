/**
 * `npm run bench`: runs the benchmark suites in turn and prints a report, one
 * line per figure (or, with `--json`, one JSON document on stdout). Progress
 * goes to stderr, so `--json` output stays parseable.
 *
 *   npm run bench                              every suite
 *   npm run bench -- --only detect-scale       one suite
 *   npm run bench -- --json > bench.json       machine-readable
 *   npm run bench -- --strict                  exit 1 when a figure misses its target
 *   npm run bench -- --list                    the suites' names
 *
 * A suite is `{ name, description, run(ctx) }`; add it to SUITES below.
 */
import { cpus, platform, arch } from "node:os";
import { performance } from "node:perf_hooks";
import { detectScale } from "./detect-scale.js";
import { runtimeWorkloads } from "./runtime-workloads.js";
import { dashboardBench } from "./dashboard-bench.js";
import { pmTokens } from "./pm-tokens.js";
import { cliCommands } from "./cli-commands.js";
import { agentStreams } from "./agent-streams.js";
import { postgresWorkloads } from "./postgres-workloads.js";

export interface Result {
  /** What was measured, e.g. `n=10,000 full path (planLaunch --dry-run)`. */
  name: string;
  value: number;
  unit: string;
  /** The value must stay under this (same unit), when the figure has a target. */
  target?: number;
  pass?: boolean;
  /** Extra context printed after the value. */
  note?: string;
  /** Parameters of the measurement, for JSON consumers (e.g. `{ tasks: 10000 }`). */
  params?: Record<string, number | string>;
  /** A detail of the figure above it: indented in the readable report. */
  sub?: boolean;
}

export interface SuiteContext {
  /** Progress for humans (stderr); not part of the report. */
  log(line: string): void;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<Result[]>;
}

export const SUITES: readonly Suite[] = [detectScale, cliCommands, runtimeWorkloads, agentStreams, dashboardBench, pmTokens, postgresWorkloads];

interface Args {
  json: boolean;
  strict: boolean;
  list: boolean;
  only: string[];
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, strict: false, list: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") args.json = true;
    else if (a === "--strict") args.strict = true;
    else if (a === "--list") args.list = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!v) throw new UsageError("--only: expected a suite name");
      args.only.push(...v.split(","));
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node dist/bench/run.js [--only NAME[,NAME]] [--json] [--strict] [--list]\n");
      process.exit(0);
    } else throw new UsageError(`unknown argument: ${a} (try --help)`);
  }
  return args;
}

function fmtValue(r: Result): string {
  const v = Math.abs(r.value);
  const digits = Number.isInteger(r.value) ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return r.value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatLine(r: Result, nameWidth: number): string {
  const name = r.sub ? `  ${r.name}` : r.name;
  let line = `  ${name.padEnd(nameWidth)}  ${fmtValue(r).padStart(10)} ${r.unit}`;
  if (r.target !== undefined) line += `  [${r.pass ? "PASS" : "FAIL"}: target < ${r.target.toLocaleString("en-US")} ${r.unit}]`;
  if (r.note) line += `  (${r.note})`;
  return line;
}

interface SuiteReport {
  name: string;
  description: string;
  durationMs: number;
  results: Result[];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of SUITES) process.stdout.write(`${s.name}\t${s.description}\n`);
    return 0;
  }
  const unknown = args.only.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite: ${unknown.join(", ")} (suites: ${SUITES.map((s) => s.name).join(", ")})\n`);
    return 2;
  }
  const chosen = args.only.length > 0 ? SUITES.filter((s) => args.only.includes(s.name)) : SUITES;
  const ctx: SuiteContext = { log: (line) => process.stderr.write(`${line}\n`) };
  const cpuList = cpus();
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? "unknown",
  };
  if (!args.json) {
    process.stdout.write(`aipm benchmarks — ${env.date}, node ${env.node}, ${env.platform}, ${env.cpus} x ${env.cpuModel}\n`);
  }

  const reports: SuiteReport[] = [];
  for (const suite of chosen) {
    ctx.log(`running ${suite.name}...`);
    const t0 = performance.now();
    const results = await suite.run(ctx);
    const report = { name: suite.name, description: suite.description, durationMs: performance.now() - t0, results };
    reports.push(report);
    if (!args.json) {
      const width = Math.max(...results.map((r) => r.name.length + (r.sub ? 2 : 0)), 0);
      process.stdout.write(`\n${suite.name}: ${suite.description}\n`);
      for (const r of results) process.stdout.write(`${formatLine(r, width)}\n`);
      process.stdout.write(`  (suite took ${(report.durationMs / 1000).toFixed(1)} s)\n`);
    }
  }

  const failed = reports.flatMap((s) => s.results.filter((r) => r.pass === false).map((r) => `${s.name}: ${r.name}`));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ...env, suites: reports, failed }, null, 2)}\n`);
  } else {
    const checked = reports.reduce((n, s) => n + s.results.filter((r) => r.pass !== undefined).length, 0);
    process.stdout.write(
      checked === 0
        ? "\nno figure with a target was measured\n"
        : failed.length === 0
        ? `\nall ${checked} targets met\n`
        : `\n${failed.length} of ${checked} targets missed:\n${failed.map((f) => `  ${f}\n`).join("")}`,
    );
  }
  return args.strict && failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
