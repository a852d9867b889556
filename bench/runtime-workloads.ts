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
import { runFloor, type Workload } from "./floor-scheduler.js";
import type { Result, Suite, SuiteContext } from "./run.js";

const HERE = dirname(fileURLToPath(import.meta.url));
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

function rssKb(pid: number): number {
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
    if (cmd.includes("\0aipm-task\0") && cmd.includes(dir)) {
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

async function runAipm(w: Workload, sampleMemory: boolean): Promise<AipmRun> {
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

async function one(name: string, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = load(name);
  const floorDir = mkdtempSync(join(tmpdir(), "aipm-floor-"));
  ctx.log(`${name}: floor...`);
  const floor = await runFloor(w, floorDir);
  rmSync(floorDir, { recursive: true, force: true });
  ctx.log(`${name}: aipm...`);
  const run = await runAipm(w, name === "sleep-200");
  const ratio = run.wallMs / floor.wallMs;
  out.push({ name: `${name}: floor`, value: floor.wallMs, unit: "ms" });
  out.push({ name: `${name}: aipm parallel-launch --wait`, value: run.wallMs, unit: "ms" });
  const rows = await runRows(run.db);
  if (name === "flat-1000-true" || name === "dag-1000-true") {
    out.push({ name: `${name}: aipm / floor`, value: ratio, unit: "x", target: 1.3, pass: ratio <= 1.3 });
  }
  if (name === "dag-1000-true") {
    const m = median(depDelays(w, rows));
    out.push({ name: `${name}: median dependency end -> dependent start`, value: m, unit: "ms", target: 20, pass: m < 20 });
  }
  if (name === "conflict-200") {
    out.push({ name: `${name}: aipm / floor`, value: ratio, unit: "x", target: 1.2, pass: ratio <= 1.2 });
    const n = overlaps(w, rows);
    out.push({ name: `${name}: overlaps of tasks sharing a file`, value: n, unit: "", target: 0.5, pass: n === 0 });
  }
  if (name === "sleep-200") {
    const ideal = Number((w.meta as { ideal_wall_s?: number } | undefined)?.ideal_wall_s ?? 5) * 1000;
    const eff = (ideal / run.wallMs) * 100;
    out.push({ name: `${name}: efficiency (ideal ${ideal / 1000} s / wall)`, value: eff, unit: "%", note: "target >= 95 %", pass: eff >= 95 });
    const mb = run.peakMemKb / 1024;
    out.push({
      name: `${name}: memory of aipm's processes, ${run.peakWrappers} tasks running`,
      value: mb,
      unit: "MB",
      target: 150,
      pass: mb < 150,
    });
  }
  if (!process.env.AIPM_BENCH_KEEP) rmSync(run.dir, { recursive: true, force: true });
}

export const runtimeWorkloads: Suite = {
  name: "runtime",
  description: "the shared workloads, aipm parallel-launch --wait vs an in-memory floor scheduler",
  async run(ctx) {
    const out: Result[] = [];
    for (const name of ["flat-1000-true", "dag-1000-true", "sleep-200", "conflict-200"]) await one(name, ctx, out);
    return out;
  },
};
