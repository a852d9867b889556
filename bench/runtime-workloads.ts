/**
 * The runtime benchmark, measured as a user meets it. For each workload of
 * ../shared/bench/workloads (or $AIPM_BENCH_WORKLOADS), REPEAT rounds
 * (AIPM_BENCH_REPEAT, default 5), each round running in turn (the order
 * alternating between rounds, so that a slow spell of this shared machine
 * hits both alike):
 *
 * - **the floor**: `node dist/bench/floor-main.js` — the bare in-memory Node
 *   scheduler of ./floor-scheduler.ts as its own process (Node start-up
 *   included), spawning each command directly: no durability, no logs, no
 *   wrapper;
 * - **aipm through the CLI**: `aipm import plan.json` and then
 *   `aipm parallel-launch bench O --wait`, two processes run from the run's
 *   folder, the database found as a user's is (`./.aipm/aipm.db`), every
 *   transition durable, every task under its wrapper with its log.
 *
 * The ratio of a round is (import + launch) / floor of that round; a figure
 * is the median over the rounds, and the spread (lowest–highest round) is
 * printed beside it. Resource monitoring is off for aipm (it would scale the
 * workers down on this busy machine, and the floor does not measure): its
 * start-up cost is reported by the `cli` suite.
 *
 * Also: the memory of aipm's own processes while 8 tasks run (sleep-200),
 * overlaps of tasks sharing a file (conflict-200), and the reaction time: a
 * chain of `date +%s%N` tasks run while 8 other tasks run (sleep lanes), the
 * delay from one link's clock to the next one's, read from their logs
 * (p50/p99). AIPM_BENCH_INPROCESS=1 adds aipm as a library in this process
 * (launchOrder + waitForOrder, no start-up, no import), for diagnosis.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/store/open.js";
import { importPlan } from "../src/plan/import-plan.js";
import { launchOrder } from "../src/runtime/launch-order.js";
import { waitForOrder } from "../src/runtime/wait-order.js";
import { LAUNCH_DEFAULTS } from "../src/config/launch-options.js";
import { RUNTIME_DEFAULTS } from "../src/config/runtime-options.js";
import type { Workload, Timing } from "./floor-scheduler.js";
import type { Result, Suite, SuiteContext } from "./run.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPEAT = Math.max(1, Number(process.env.AIPM_BENCH_REPEAT ?? 5));
const REPO = join(HERE, "..", "..");
export const CLI = join(REPO, "dist", "src", "cli", "main.js");
const FLOOR = join(HERE, "floor-main.js");

function workloadsDir(): string {
  const candidates = [process.env.AIPM_BENCH_WORKLOADS, join(REPO, "..", "shared", "bench", "workloads")];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error("no workloads: set AIPM_BENCH_WORKLOADS to the folder of ../shared/bench/workloads");
}

export function load(name: string): Workload {
  return JSON.parse(readFileSync(join(workloadsDir(), `${name}.json`), "utf8")) as Workload;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN;
}

/** `lo–hi` of a list, for the spread beside a median. */
export function spread(xs: readonly number[], digits = 0, unit = ""): string {
  const s = [...xs].sort((a, b) => a - b);
  return `rounds ${s.map((x) => x.toFixed(digits)).join(", ")}${unit}`;
}

/** Where a run's files go: AIPM_BENCH_DIR, else the OS temp dir. */
export function benchDir(prefix: string): string {
  return mkdtempSync(join(process.env.AIPM_BENCH_DIR ?? tmpdir(), prefix));
}

/** The environment of aipm's commands: this one without settings that would point them elsewhere. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AIPM_DB;
  delete env.AIPM_DEBUG;
  return env;
}

export interface Timed {
  wallMs: number;
  code: number | null;
  stdout: string;
  pid: number;
}

/** Runs `node ARGS` and times it from spawn to exit (Node's start-up included). */
export function timeNode(args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; onStart?: (pid: number) => void }): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env ?? cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr.length < 4000 ? (stderr += d) : undefined));
    child.on("error", reject);
    opts.onStart?.(child.pid!);
    child.on("close", (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`node ${args.slice(0, 4).join(" ")}... exited ${code}: ${stderr.slice(0, 500)}`));
      else resolve({ wallMs, code, stdout, pid: child.pid! });
    });
  });
}

/** Proportional set size: a process's own pages plus its share of pages shared with others (libc, sh). */
function rssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    if (m) return Number(m[1]);
  } catch {
    /* no smaps_rollup: fall back to RSS */
  }
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** aipm's own processes for this run: the CLI/supervisor and every task wrapper whose log is under `dir`, and the spawner. */
function aipmMemoryKb(cliPid: number, dir: string): { kb: number; wrappers: number } {
  let kb = rssKb(cliPid);
  let wrappers = 0;
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmd.includes("\0aipm-task\0") && cmd.includes(dir)) {
      kb += rssKb(Number(e));
      wrappers++;
    } else if (cmd.includes("dist/worker/spawner.js") && readFileSync(`/proc/${e}/stat`, "utf8").split(") ")[1]?.split(" ")[1] === String(cliPid)) {
      kb += rssKb(Number(e));
    }
  }
  return { kb, wrappers };
}

/** The plan a user would write for a workload. */
export function planOf(w: Workload): unknown {
  return {
    project: "bench",
    root: "./root",
    orders: [{ id: "O", tasks: w.tasks.map((t) => ({ id: t.id, deps: t.deps, command: t.command, target_files: t.files })) }],
  };
}

export interface AipmRun {
  importMs: number;
  launchMs: number;
  wallMs: number;
  dir: string;
  /** The SQLite file, or the PostgreSQL URL the run used. */
  db: string;
  peakMemKb: number;
  peakWrappers: number;
}

export async function runFloorProcess(w: Workload, clocks?: (logDir: string) => void): Promise<{ wallMs: number; timings: Timing[] }> {
  const dir = benchDir("aipm-floor-");
  try {
    const file = join(dir, "workload.json");
    writeFileSync(file, JSON.stringify(w));
    const logDir = join(dir, "logs");
    if (clocks) mkdirSync(logDir);
    const t = await timeNode([FLOOR, file, dir, ...(clocks ? [logDir] : [])], { cwd: dir });
    const inner = JSON.parse(t.stdout) as { wallMs: number; timings: Timing[] };
    clocks?.(logDir);
    return { wallMs: t.wallMs, timings: inner.timings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `aipm import` then `aipm parallel-launch bench O --wait`, each its own process, as a user types them. */
/**
 * AIPM_BENCH_BASELINE: another build's CLI (e.g. a copy of dist/ from an earlier commit, its
 * `dist/bin/aipm`) run in every round beside this one, for a before/after measured in one run.
 */
export const BASELINE_CLI = process.env.AIPM_BENCH_BASELINE;

export interface CliRunOptions {
  /** Sample the memory of aipm's processes while they run. */
  sampleMemory?: boolean;
  /** The CLI to run (default this build's). */
  cli?: string;
  /**
   * A PostgreSQL URL (an empty database) given as a user gives it, `AIPM_DB`; the commands still
   * run from the run's folder, whose `.aipm/` holds the logs. Default: the run folder's SQLite file.
   */
  pgUrl?: string;
}

export async function runAipmCli(w: Workload, opts: CliRunOptions = {}): Promise<AipmRun> {
  const { sampleMemory = false, cli = CLI, pgUrl } = opts;
  const dir = benchDir(`aipm-bench-${w.name}-`);
  writeFileSync(join(dir, "plan.json"), JSON.stringify(planOf(w)));
  const env = cliEnv({ AIPM_ENABLE_MONITORING: "false" });
  if (pgUrl) {
    mkdirSync(join(dir, ".aipm"));
    env.AIPM_DB = pgUrl;
  }
  const imp = await timeNode([cli, "import", "plan.json"], { cwd: dir, env });
  let peakMemKb = 0;
  let peakWrappers = 0;
  let timer: NodeJS.Timeout | null = null;
  const launch = await timeNode([cli, "parallel-launch", "bench", "O", "--wait", "--max-workers", String(w.maxWorkers)], {
    cwd: dir,
    env,
    onStart: (pid) => {
      if (!sampleMemory) return;
      timer = setInterval(() => {
        const m = aipmMemoryKb(pid, dir);
        if (m.wrappers >= Math.min(8, w.maxWorkers) && m.kb > peakMemKb) {
          peakMemKb = m.kb;
          peakWrappers = m.wrappers;
        }
      }, 100);
    },
  });
  if (timer) clearInterval(timer);
  const db = pgUrl ?? join(dir, ".aipm", "aipm.db");
  return { importMs: imp.wallMs, launchMs: launch.wallMs, wallMs: imp.wallMs + launch.wallMs, dir, db, peakMemKb, peakWrappers };
}

/** aipm as a library in this process (no Node start-up, import not timed): launchOrder + waitForOrder. */
async function runAipmInProcess(w: Workload): Promise<{ wallMs: number; dir: string; db: string }> {
  const dir = benchDir(`aipm-lib-${w.name}-`);
  const db = join(dir, ".aipm", "aipm.db");
  const store0 = await openStore({ db });
  importPlan(store0, planOf(w), dir);
  store0.close();
  const t0 = performance.now();
  const store = await openStore({ db });
  const options = { ...LAUNCH_DEFAULTS, maxWorkers: w.maxWorkers, monitoring: false };
  const { launched } = await launchOrder(store, { project: "bench", order: "O", options, backoffS: 5, env: process.env, dryRun: false });
  const summary = await waitForOrder(store, { project: "bench", order: "O", runtime: RUNTIME_DEFAULTS, env: process.env, launched });
  const wallMs = performance.now() - t0;
  store.close();
  if (!summary.done) throw new Error(`${w.name}: in-process run did not finish`);
  return { wallMs, dir, db };
}

export interface RunRow {
  task_id: string;
  started_at: number;
  finished_at: number;
}

/** The succeeded runs of a run's database (a SQLite file or a PostgreSQL URL). */
export async function runRows(db: string): Promise<RunRow[]> {
  const store = await openStore({ db });
  try {
    return store.conn.prepare("SELECT task_id, started_at, finished_at FROM runs WHERE outcome = 'succeeded'").all() as RunRow[];
  } finally {
    store.close();
  }
}

function overlaps(w: Workload, rows: RunRow[]): number {
  const byTask = new Map(rows.map((r) => [r.task_id, r]));
  const byFile = new Map<string, RunRow[]>();
  for (const t of w.tasks) for (const f of t.files) byFile.set(f, [...(byFile.get(f) ?? []), byTask.get(t.id)!]);
  let n = 0;
  for (const list of byFile.values()) {
    const s = list.filter(Boolean).sort((a, b) => a.started_at - b.started_at);
    for (let i = 1; i < s.length; i++) if (s[i]!.started_at < s[i - 1]!.finished_at) n++;
  }
  return n;
}

function depDelays(w: Workload, rows: RunRow[]): number[] {
  const byTask = new Map(rows.map((r) => [r.task_id, r]));
  const out: number[] = [];
  for (const t of w.tasks) {
    if (t.deps.length === 0) continue;
    const me = byTask.get(t.id);
    const lastDep = Math.max(...t.deps.map((d) => byTask.get(d)?.finished_at ?? NaN));
    if (me && Number.isFinite(lastDep)) out.push(me.started_at - lastDep);
  }
  return out;
}

/**
 * Run folders are removed when the suite ends, not between runs: on a file system without a
 * journal (ext4 here), creating an inode skips the ones deleted in the last minutes one by one
 * (`recently_deleted`), so deleting a finished run's thousands of folders and files made the next
 * runs' mkdirs slower — aipm's, never the floor's, which creates none.
 */
const leftovers: string[] = [];

const RATIO_TARGETS: Record<string, number> = { "flat-1000-true": 1.3, "dag-1000-true": 1.3, "conflict-200": 1.2 };

async function one(name: string, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = load(name);
  const inProcess = process.env.AIPM_BENCH_INPROCESS === "1";
  const floors: number[] = [];
  const runs: AipmRun[] = [];
  const ratios: number[] = [];
  const libs: Array<{ wallMs: number; dir: string; db: string }> = [];
  const baseline: number[] = [];
  const baseRatios: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    ctx.log(`${name} (${i + 1}/${REPEAT}): ${i % 2 ? "aipm CLI, floor" : "floor, aipm CLI"}${inProcess ? ", aipm in-process" : ""}...`);
    let floor: number;
    let run: AipmRun;
    if (i % 2 === 0) {
      floor = (await runFloorProcess(w)).wallMs;
      run = await runAipmCli(w, { sampleMemory: name === "sleep-200" });
    } else {
      run = await runAipmCli(w, { sampleMemory: name === "sleep-200" });
      floor = (await runFloorProcess(w)).wallMs;
    }
    floors.push(floor);
    runs.push(run);
    ratios.push(run.wallMs / floor);
    if (inProcess) libs.push(await runAipmInProcess(w));
    if (BASELINE_CLI) {
      const b = await runAipmCli(w, { cli: BASELINE_CLI });
      baseline.push(b.wallMs);
      baseRatios.push(b.wallMs / floor);
      leftovers.push(b.dir);
    }
  }
  const byWall = <T extends { wallMs: number }>(xs: T[]): T => [...xs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(xs.length / 2)]!;
  const run = byWall(runs);
  const floor = median(floors);
  const ratio = median(ratios);
  out.push({ name: `${name}: floor (its own process)`, value: floor, unit: "ms", note: spread(floors, 0, " ms") });
  out.push({ name: `${name}: aipm import + parallel-launch --wait`, value: median(runs.map((r) => r.wallMs)), unit: "ms", note: spread(runs.map((r) => r.wallMs), 0, " ms") });
  out.push({ name: `${name}: of which import`, value: median(runs.map((r) => r.importMs)), unit: "ms", sub: true, note: spread(runs.map((r) => r.importMs), 0, " ms") });
  out.push({ name: `${name}: of which parallel-launch --wait`, value: median(runs.map((r) => r.launchMs)), unit: "ms", sub: true, note: spread(runs.map((r) => r.launchMs), 0, " ms") });
  const target = RATIO_TARGETS[name];
  if (target !== undefined) {
    out.push({ name: `${name}: aipm / floor`, value: ratio, unit: "x", target, pass: ratio <= target, note: `median of per-round ratios; ${spread(ratios, 2)}` });
  }
  if (BASELINE_CLI) {
    out.push({ name: `${name}: baseline build, import + launch`, value: median(baseline), unit: "ms", sub: true, note: spread(baseline, 0, " ms") });
    out.push({ name: `${name}: baseline build / floor`, value: median(baseRatios), unit: "x", sub: true, note: spread(baseRatios, 2) });
  }
  if (inProcess) {
    const lib = byWall(libs);
    out.push({ name: `${name}: aipm in-process (launchOrder + waitForOrder, no import) / floor`, value: lib.wallMs / floor, unit: "x", sub: true });
  }
  const rows = await runRows(run.db);
  if (name === "dag-1000-true") {
    const m = median(depDelays(w, rows));
    out.push({ name: `${name}: median dependency end -> dependent start (runs table, incl. waiting for a slot)`, value: m, unit: "ms" });
  }
  if (name === "conflict-200") {
    let n = 0;
    for (const r of runs) n += overlaps(w, await runRows(r.db));
    out.push({ name: `${name}: overlaps of tasks sharing a file (all rounds)`, value: n, unit: "", target: 0.5, pass: n === 0 });
  }
  if (name === "sleep-200") {
    const ideal = Number((w.meta as { ideal_wall_s?: number } | undefined)?.ideal_wall_s ?? 5) * 1000;
    const effs = runs.map((r) => (ideal / r.wallMs) * 100);
    const eff = median(effs);
    out.push({ name: `${name}: efficiency, aipm (ideal ${ideal / 1000} s / (import + launch))`, value: eff, unit: "%", note: `target >= 95 %; ${spread(effs, 1, " %")}`, pass: eff >= 95 });
    out.push({ name: `${name}: efficiency, floor`, value: (ideal / floor) * 100, unit: "%", sub: true });
    if (BASELINE_CLI) out.push({ name: `${name}: efficiency, baseline build`, value: (ideal / median(baseline)) * 100, unit: "%", sub: true });
    const peak = runs.reduce((a, b) => (b.peakMemKb > a.peakMemKb ? b : a));
    const mb = peak.peakMemKb / 1024;
    out.push({
      name: `${name}: memory (PSS) of aipm's processes: CLI + spawner + ${peak.peakWrappers} wrappers`,
      value: mb,
      unit: "MB",
      target: 150,
      pass: mb < 150,
    });
  }
  leftovers.push(...[...runs, ...libs].map((r) => r.dir));
}

// ------------------------------------------------------------ reaction

const LANES = 8;
const LANE_TASKS = 40;
const CHAIN = 120;

/** A chain of CHAIN `date +%s%N` tasks, and LANES lanes of `sleep 0.1` that keep 8 other tasks running meanwhile. */
export function reactionWorkload(): Workload {
  const tasks: Workload["tasks"] = [];
  for (let l = 0; l < LANES; l++) {
    for (let i = 0; i < LANE_TASKS; i++) tasks.push({ id: `bg${l}-${i}`, deps: i ? [`bg${l}-${i - 1}`] : [], command: ["sleep", "0.1"], files: [] });
  }
  for (let i = 0; i < CHAIN; i++) tasks.push({ id: `c${i}`, deps: i ? [`c${i - 1}`] : [], command: ["date", "+%s%N"], files: [] });
  return { name: "reaction", maxWorkers: LANES + 1, tasks };
}

/** Delays between consecutive links, from the clocks they printed (`logOf(task)`), counted while every lane still ran (until `bgEnd`, epoch ms). */
function chainDelays(logOf: (task: string) => string, bgEnd: number): number[] {
  const clock = (task: string): number => {
    const text = readFileSync(logOf(task), "utf8").trim();
    return Number(BigInt(text) / 1000n) / 1000; // ms since the epoch
  };
  const out: number[] = [];
  let prev = clock("c0");
  for (let i = 1; i < CHAIN; i++) {
    const t = clock(`c${i}`);
    if (t < bgEnd) out.push(t - prev);
    prev = t;
  }
  return out;
}

async function reaction(ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = reactionWorkload();
  const p50s: number[] = [];
  const p99s: number[] = [];
  const all: number[] = [];
  const floorAll: number[] = [];
  const baseAll: number[] = [];
  const rounds = Math.max(1, Math.min(REPEAT, 3));
  for (let i = 0; i < rounds; i++) {
    ctx.log(`reaction (${i + 1}/${rounds}): floor, aipm CLI...`);
    await runFloorProcess(w, (logDir) => floorAll.push(...chainDelays((t) => join(logDir, `${t}.log`), Infinity)));
    const run = await runAipmCli(w);
    const bg = (await runRows(run.db)).filter((r) => r.task_id.startsWith("bg"));
    const bgEnd = Math.min(...Array.from({ length: LANES }, (_, l) => Math.max(...bg.filter((r) => r.task_id.startsWith(`bg${l}-`)).map((r) => r.finished_at))));
    const d = chainDelays((t) => join(run.dir, ".aipm", "logs", "bench", t, "1.log"), bgEnd);
    if (process.env.AIPM_BENCH_DEBUG) ctx.log(`reaction delays (ms): ${d.map((x) => x.toFixed(1)).join(" ")}`);
    if (BASELINE_CLI) {
      const b = await runAipmCli(w, { cli: BASELINE_CLI });
      const bbg = (await runRows(b.db)).filter((r) => r.task_id.startsWith("bg"));
      const bEnd = Math.min(...Array.from({ length: LANES }, (_, l) => Math.max(...bbg.filter((r) => r.task_id.startsWith(`bg${l}-`)).map((r) => r.finished_at))));
      baseAll.push(...chainDelays((t) => join(b.dir, ".aipm", "logs", "bench", t, "1.log"), bEnd));
      leftovers.push(b.dir);
    }
    if (d.length < CHAIN / 2) ctx.log(`reaction: only ${d.length} links measured while the lanes ran`);
    p50s.push(quantile(d, 0.5));
    p99s.push(quantile(d, 0.99));
    all.push(...d);
    leftovers.push(run.dir);
  }
  const p99 = quantile(all, 0.99);
  out.push({ name: `reaction: floor, one link's clock -> the next one's (its 8 lanes running), p50`, value: quantile(floorAll, 0.5), unit: "ms", note: `p99 ${quantile(floorAll, 0.99).toFixed(1)} ms` });
  out.push({ name: `reaction: aipm, one link's clock -> the next one's (8 other tasks running), p50`, value: quantile(all, 0.5), unit: "ms", note: spread(p50s, 1, " ms") });
  out.push({ name: `reaction: aipm, p99 (${all.length} links over ${rounds} rounds)`, value: p99, unit: "ms", target: 20, pass: p99 < 20, note: spread(p99s, 1, " ms") });
  if (BASELINE_CLI) {
    out.push({ name: `reaction: baseline build, p50`, value: quantile(baseAll, 0.5), unit: "ms", sub: true, note: `p99 ${quantile(baseAll, 0.99).toFixed(1)} ms` });
  }
}

export const runtimeWorkloads: Suite = {
  name: "runtime",
  description: "the shared workloads through the CLI (aipm import + parallel-launch --wait) vs the floor scheduler, interleaved; reaction time",
  async run(ctx) {
    const out: Result[] = [];
    const only = process.env.AIPM_BENCH_WORKLOAD?.split(",");
    for (const name of ["flat-1000-true", "dag-1000-true", "sleep-200", "conflict-200", "reaction"]) {
      if (only && !only.includes(name)) continue;
      if (name === "reaction") await reaction(ctx, out);
      else await one(name, ctx, out);
    }
    if (!process.env.AIPM_BENCH_KEEP) for (const d of leftovers.splice(0)) rmSync(d, { recursive: true, force: true });
    return out;
  },
};
