/**
 * The runtime benchmark: each workload of ../shared/bench/workloads (or
 * $AIPM_BENCH_WORKLOADS) run by the floor (bench/floor-scheduler.ts) and by
 * aipm exactly as a user runs it — `aipm parallel-launch P O --wait` as its own
 * process, Node start-up included, every transition durable in SQLite, every
 * task under its wrapper with its log — in the same invocation.
 *
 * Figures: wall time and the ratio to the floor; for sleep-200 the efficiency
 * (ideal / wall); overlaps of tasks sharing a file (conflict-200); the median
 * delay from a dependency's end to its dependent's start (dag-1000-true, from
 * the runs table); the peak memory of aipm's own processes (the supervisor and
 * the task wrappers) while tasks run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/store/open.js";
import { importPlan } from "../src/plan/import-plan.js";
import { launchOrder } from "../src/runtime/launch-order.js";
import { waitForOrder } from "../src/runtime/wait-order.js";
import { LAUNCH_DEFAULTS } from "../src/config/launch-options.js";
import { RUNTIME_DEFAULTS } from "../src/config/runtime-options.js";
import { runFloor, type Workload } from "./floor-scheduler.js";
import type { Result, Suite, SuiteContext } from "./run.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPEAT = Math.max(1, Number(process.env.AIPM_BENCH_REPEAT ?? 3));
const REPO = join(HERE, "..", "..");
const CLI = join(REPO, "dist", "src", "cli", "main.js");

function workloadsDir(): string {
  const candidates = [process.env.AIPM_BENCH_WORKLOADS, join(REPO, "..", "shared", "bench", "workloads")];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error("no workloads: set AIPM_BENCH_WORKLOADS to the folder of ../shared/bench/workloads");
}

function load(name: string): Workload {
  return JSON.parse(readFileSync(join(workloadsDir(), `${name}.json`), "utf8")) as Workload;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
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

/** aipm's own processes for this run: the CLI/supervisor and every task wrapper whose log is under `dir`. */
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
    if ((cmd.includes("\0aipm-task\0") && cmd.includes(dir)) || cmd.includes("dist/worker/spawner.js")) {
      kb += rssKb(Number(e));
      wrappers++;
    }
  }
  return { kb, wrappers };
}

interface AipmRun {
  wallMs: number;
  dir: string;
  db: string;
  peakMemKb: number;
  peakWrappers: number;
}

async function prepare(w: Workload): Promise<{ dir: string; db: string }> {
  const dir = mkdtempSync(join(process.env.AIPM_BENCH_DIR ?? tmpdir(), `aipm-bench-${w.name}-`));
  const db = join(dir, "state", "aipm.db");
  const store = await openStore({ db });
  importPlan(
    store,
    {
      project: "bench",
      root: ".",
      orders: [{ id: "O", tasks: w.tasks.map((t) => ({ id: t.id, deps: t.deps, command: t.command, target_files: t.files })) }],
    },
    join(dir, "root"),
  );
  store.close();
  return { dir, db };
}

/** aipm as a library in this process (no Node start-up, like the floor): launchOrder + waitForOrder. */
async function runAipmInProcess(w: Workload): Promise<{ wallMs: number; dir: string; db: string }> {
  const { dir, db } = await prepare(w);
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

async function runAipm(w: Workload, sampleMemory: boolean): Promise<AipmRun> {
  const { dir, db } = await prepare(w);
  const env = { ...process.env, AIPM_ENABLE_MONITORING: "false" };
  const args = [CLI, "--db", db, "parallel-launch", "bench", "O", "--wait", "--max-workers", String(w.maxWorkers)];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "ignore"] });
  let peakMemKb = 0;
  let peakWrappers = 0;
  const timer = sampleMemory
    ? setInterval(() => {
        const m = aipmMemoryKb(child.pid!, dir);
        if (m.wrappers >= Math.min(8, w.maxWorkers) && m.kb > peakMemKb) {
          peakMemKb = m.kb;
          peakWrappers = m.wrappers;
        }
      }, 100)
    : null;
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const wallMs = performance.now() - t0;
  if (timer) clearInterval(timer);
  if (code !== 0) throw new Error(`${w.name}: aipm exited ${code}`);
  return { wallMs, dir, db, peakMemKb, peakWrappers };
}

interface RunRow {
  task_id: string;
  started_at: number;
  finished_at: number;
}

async function runRows(db: string): Promise<RunRow[]> {
  const store = await openStore({ db });
  try {
    return store.sqlite.prepare("SELECT task_id, started_at, finished_at FROM runs WHERE outcome = 'succeeded'").all() as RunRow[];
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

/** A chain of `true` tasks: each is launchable the moment its dependency ends, so the delay is pure reaction time. */
function chain(n: number): Workload {
  return {
    name: `chain-${n}`,
    maxWorkers: 8,
    tasks: Array.from({ length: n }, (_, i) => ({ id: `c${i}`, deps: i ? [`c${i - 1}`] : [], command: ["true"], files: [] })),
  };
}

async function one(name: string, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = name.startsWith("chain-") ? chain(Number(name.slice(6))) : load(name);
  // This machine's timings vary by 10-20 % from run to run: each figure is the median of REPEAT
  // runs, taken in turn (floor, CLI, in-process) so that a slow spell hits all three alike.
  const floors: Array<{ wallMs: number }> = [];
  const runs: AipmRun[] = [];
  const libs: Array<{ wallMs: number; dir: string; db: string }> = [];
  for (let i = 0; i < REPEAT; i++) {
    const floorDir = mkdtempSync(join(tmpdir(), "aipm-floor-"));
    ctx.log(`${name} (${i + 1}/${REPEAT}): floor, aipm CLI, aipm in-process...`);
    floors.push(await runFloor(w, floorDir));
    rmSync(floorDir, { recursive: true, force: true });
    runs.push(await runAipm(w, name === "sleep-200"));
    libs.push(await runAipmInProcess(w));
  }
  const byWall = <T extends { wallMs: number }>(xs: T[]): T => [...xs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(xs.length / 2)]!;
  const floor = byWall(floors);
  const run = byWall(runs);
  const lib = byWall(libs);
  run.peakMemKb = Math.max(...runs.map((r) => r.peakMemKb));
  run.peakWrappers = runs.find((r) => r.peakMemKb === run.peakMemKb)?.peakWrappers ?? run.peakWrappers;
  const ratio = run.wallMs / floor.wallMs;
  const libRatio = lib.wallMs / floor.wallMs;
  out.push({ name: `${name}: floor`, value: floor.wallMs, unit: "ms" });
  out.push({ name: `${name}: aipm parallel-launch --wait (CLI, start-up included)`, value: run.wallMs, unit: "ms" });
  out.push({ name: `${name}: aipm launchOrder + waitForOrder (in-process)`, value: lib.wallMs, unit: "ms" });
  const rows = await runRows(run.db);
  const ratioTarget = name === "conflict-200" ? 1.2 : name === "flat-1000-true" || name === "dag-1000-true" ? 1.3 : undefined;
  if (ratioTarget !== undefined) {
    out.push({ name: `${name}: CLI / floor`, value: ratio, unit: "x", target: ratioTarget, pass: ratio <= ratioTarget });
    out.push({ name: `${name}: in-process / floor`, value: libRatio, unit: "x", target: ratioTarget, pass: libRatio <= ratioTarget });
  }
  if (name === "dag-1000-true") {
    const m = median(depDelays(w, rows));
    out.push({ name: `${name}: median dependency end -> dependent start (incl. waiting for a slot)`, value: m, unit: "ms" });
  }
  if (name.startsWith("chain-")) {
    const m = median(depDelays(w, rows));
    out.push({ name: `${name}: median dependency end -> dependent start`, value: m, unit: "ms", target: 20, pass: m < 20 });
    const libRows = await runRows(lib.db);
    const ml = median(depDelays(w, libRows));
    out.push({ name: `${name}: same, in-process`, value: ml, unit: "ms", target: 20, pass: ml < 20 });
  }
  if (name === "conflict-200") {
    const n = overlaps(w, rows) + overlaps(w, await runRows(lib.db));
    out.push({ name: `${name}: overlaps of tasks sharing a file (both runs)`, value: n, unit: "", target: 0.5, pass: n === 0 });
  }
  if (name === "sleep-200") {
    const ideal = Number((w.meta as { ideal_wall_s?: number } | undefined)?.ideal_wall_s ?? 5) * 1000;
    const eff = (ideal / run.wallMs) * 100;
    const effLib = (ideal / lib.wallMs) * 100;
    out.push({ name: `${name}: efficiency, CLI (ideal ${ideal / 1000} s / wall)`, value: eff, unit: "%", note: "target >= 95 %", pass: eff >= 95 });
    out.push({ name: `${name}: efficiency, in-process`, value: effLib, unit: "%", note: "target >= 95 %", pass: effLib >= 95 });
    const mb = run.peakMemKb / 1024;
    out.push({
      name: `${name}: memory (PSS) of aipm's processes: CLI + spawner + ${run.peakWrappers} wrappers`,
      value: mb,
      unit: "MB",
      target: 150,
      pass: mb < 150,
    });
  }
  if (!process.env.AIPM_BENCH_KEEP) for (const r of [...runs, ...libs]) rmSync(r.dir, { recursive: true, force: true });
}

export const runtimeWorkloads: Suite = {
  name: "runtime",
  description: "the shared workloads, aipm parallel-launch --wait vs an in-memory floor scheduler",
  async run(ctx) {
    const out: Result[] = [];
    for (const name of ["flat-1000-true", "dag-1000-true", "sleep-200", "conflict-200", "chain-200"]) await one(name, ctx, out);
    return out;
  },
};
