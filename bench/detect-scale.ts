/**
 * Suite `detect-scale`: detection + selection on generated orders of
 * 1,000 to 100,000 tasks. The issue's targets, for the full dry-run path
 * (`planLaunch`: read the project from SQLite, build the graph, select):
 * 10,000 tasks under 200 ms, 100,000 tasks under 2 s.
 *
 * The workload (deterministic, one seeded PRNG per size):
 * - one order of n tasks; task i depends on 2-4 (mean 3) distinct tasks
 *   among the ~200 before it, so the graph is a DAG with realistic depth;
 * - 1-3 target entries per task from a pool of `pkgP/modM/fileK.ts` literals
 *   (n of them, 200 per package); 3% of the entries drawn are globs
 *   (`pkgP/**\/*.css`, `pkgP/modM/*.ts`, `pkgP/modM/*.test.ts`);
 * - statuses: ~95% DONE up to 45% of the order, fading to none by 55%, the
 *   rest QUEUED; a few FAILED/CANCELLED tasks early (0.25% of the first 35%,
 *   at least three: their blocked cascades stay small among DONE tasks) and
 *   one FAILED at 95% (it blocks much of the last 5%);
 *   5% of the early QUEUED tasks wait out a retry backoff;
 * - RUNNING tasks IN_PROGRESS, holding lock rows on a third of the distinct
 *   target entries (their own entries first). Running tasks are capped by the
 *   worker limit in practice, so a third of the files is held by a few tasks
 *   with wide footprints rather than by thousands of running tasks; with
 *   maxWorkers 8 this leaves free slots, so the selection really selects.
 * Statuses are drawn without forcing "DONE implies every dependency DONE":
 * detection only examines QUEUED tasks and stops blocked propagation at DONE.
 *
 * Setup (generation, import, status updates) is not timed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openStore, type Store } from "../src/store/open.js";
import { applyPlan } from "../src/plan/import-plan.js";
import { commandTaskSpec, type PlanSpec, type TaskSpec, type InputStatus } from "../src/plan/spec.js";
import type { Priority } from "../src/store/schema.js";
import { countRunning, getOrder, loadLocks, loadProjectTasks } from "../src/store/read-project.js";
import { detect, type Detection, type DetectInput } from "../src/detect/select.js";
import { planLaunch } from "../src/launch/plan-launch.js";
import type { LaunchOptions } from "../src/config/launch-options.js";
import { isGlob } from "../src/paths/target-path.js";
import type { Result, Suite } from "./run.js";

export const DEFAULT_SIZES = [1_000, 10_000, 30_000, 100_000] as const;
/** Full-path targets (ms) from the issue. */
export const TARGETS_MS: ReadonlyMap<number, number> = new Map([
  [10_000, 200],
  [100_000, 2_000],
]);

const PROJECT = "bench";
const ORDER = "big";
const RUNNING = 5;
const DEP_WINDOW = 200;
const GLOB_SHARE = 0.03;
const LOCKED_SHARE = 1 / 3;
const NOW = Date.UTC(2025, 0, 1);

const OPTIONS: LaunchOptions = {
  maxWorkers: 8,
  maxCpu: 85,
  maxMemory: 85,
  monitoring: false,
  autoScaling: false,
  model: null,
  review: true,
  preempt: false,
};

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  plan: PlanSpec;
  /** Tasks set IN_PROGRESS after import. */
  running: string[];
  /** Tasks given a retry backoff after import. */
  backoff: string[];
  /** Lock rows to insert: [taskId, path]. */
  locks: Array<[string, string]>;
  stats: {
    deps: number;
    entries: number;
    distinctEntries: number;
    lockedEntries: number;
    lockedGlobs: number;
    failed: number;
  };
}

const pad = (i: number) => `t${String(i).padStart(6, "0")}`;

/** Builds the order of `n` tasks, deterministically. */
export function generate(n: number, root: string, seed = 0x5eed ^ n): Workload {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
  const packages = Math.max(5, Math.round(n / 200));

  const drawEntry = (): string => {
    const p = int(0, packages - 1);
    const m = int(0, 9);
    if (rand() >= GLOB_SHARE) return `pkg${p}/mod${m}/file${int(0, 19)}.ts`;
    const kind = rand();
    if (kind < 0.4) return `pkg${p}/**/*.css`;
    if (kind < 0.7) return `pkg${p}/mod${m}/*.ts`;
    return `pkg${p}/mod${m}/*.test.ts`;
  };

  const lo = Math.floor(0.45 * n);
  const hi = Math.floor(0.55 * n);
  // At least a few failures at every size: two FAILED and one CANCELLED early, one FAILED near the end.
  const forced = new Map<number, InputStatus>([
    [Math.floor(0.1 * n), "FAILED"],
    [Math.floor(0.15 * n), "CANCELLED"],
    [Math.floor(0.2 * n), "FAILED"],
    [Math.floor(0.95 * n), "FAILED"],
  ]);
  const statusFor = (i: number): InputStatus => {
    const f = forced.get(i);
    if (f !== undefined) return f;
    const early = i < 0.35 * n;
    const r = rand();
    if (early && r < 0.002) return "FAILED";
    if (early && r < 0.0025) return "CANCELLED";
    const pDone = i < lo ? 0.95 : i < hi ? (0.95 * (hi - i)) / (hi - lo) : 0;
    return rand() < pDone ? "DONE" : "QUEUED";
  };
  const priorityFor = (): Priority => {
    const r = rand();
    return r < 0.02 ? "P0" : r < 0.17 ? "P1" : r < 0.9 ? "P2" : "P3";
  };

  const tasks: TaskSpec[] = [];
  let depCount = 0;
  let entryCount = 0;
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    const want = Math.min(i, int(2, 4));
    const from = Math.max(0, i - DEP_WINDOW);
    while (deps.size < want) deps.add(pad(int(from, i - 1)));
    const files = new Set<string>();
    const nFiles = int(1, 3);
    while (files.size < nFiles) files.add(drawEntry());
    depCount += deps.size;
    entryCount += files.size;
    const id = pad(i);
    tasks.push(
      commandTaskSpec({
        id,
        title: `task ${i}`,
        priority: priorityFor(),
        deps: [...deps],
        targetFiles: [...files],
        command: ["true"],
        status: statusFor(i),
        place: `orders[0].tasks[${i}]`,
      }),
    );
  }

  // Running tasks: QUEUED ones just before the DONE frontier fades.
  const candidates = tasks.filter((t, i) => t.status === "QUEUED" && i >= 0.3 * n && i < lo);
  const running: TaskSpec[] = [];
  while (running.length < RUNNING && candidates.length > 0) {
    running.push(candidates.splice(int(0, candidates.length - 1), 1)[0]!);
  }
  const runningIds = new Set(running.map((t) => t.id));

  // A few early QUEUED tasks wait out a retry backoff.
  const backoff = tasks
    .filter((t, i) => t.status === "QUEUED" && i < lo && !runningIds.has(t.id))
    .filter(() => rand() < 0.05)
    .map((t) => t.id);

  // Locks: a third of the distinct entries, the running tasks' own first, then a random sample dealt round-robin.
  const distinct = [...new Set(tasks.flatMap((t) => t.targetFiles))];
  const wanted = Math.round(distinct.length * LOCKED_SHARE);
  const locked = new Set<string>();
  const locks: Array<[string, string]> = [];
  for (const t of running) {
    for (const f of t.targetFiles) {
      if (!locked.has(f)) {
        locked.add(f);
        locks.push([t.id, f]);
      }
    }
  }
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = int(0, i);
    [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
  }
  let k = 0;
  for (const f of distinct) {
    if (locked.size >= wanted) break;
    if (locked.has(f)) continue;
    locked.add(f);
    locks.push([running[k++ % running.length]!.id, f]);
  }

  return {
    plan: {
      project: PROJECT,
      root,
      allowedTools: null,
      orders: [{ id: ORDER, title: `generated order of ${n} tasks`, tasks, allowedTools: null, budgetUsd: null, preempt: null, place: "orders[0]" }],
    },
    running: [...runningIds],
    backoff,
    locks,
    stats: {
      deps: depCount,
      entries: entryCount,
      distinctEntries: new Set(tasks.flatMap((t) => t.targetFiles)).size,
      lockedEntries: locked.size,
      lockedGlobs: [...locked].filter((f) => isGlob(f)).length,
      failed: tasks.filter((t) => t.status === "FAILED" || t.status === "CANCELLED").length,
    },
  };
}

/** Writes the workload into the store (untimed). */
export function load(store: Store, w: Workload): void {
  applyPlan(store, w.plan);
  const s = store.sqlite;
  s.transaction(() => {
    const run = s.prepare(
      "UPDATE tasks SET status = 'IN_PROGRESS', attempt = 1, started_at = ? WHERE project_id = ? AND id = ?",
    );
    for (const id of w.running) run.run(NOW - 60_000, PROJECT, id);
    const back = s.prepare("UPDATE tasks SET attempt = 1, retry_at = ? WHERE project_id = ? AND id = ?");
    for (const id of w.backoff) back.run(NOW + 3_600_000, PROJECT, id);
    const lock = s.prepare("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES (?, ?, ?, ?)");
    for (const [taskId, path] of w.locks) lock.run(PROJECT, taskId, path, NOW - 60_000);
  })();
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timeRuns(runs: number, fn: () => unknown): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

interface SizeFigures {
  n: number;
  fullMs: number;
  readMs: number;
  detectMs: number;
  setupMs: number;
  detection: Detection;
  running: number;
  freeSlots: number;
  w: Workload;
}

const fmtN = (n: number) => n.toLocaleString("en-US");

async function measureSize(n: number, log: (line: string) => void): Promise<SizeFigures> {
  const dir = mkdtempSync(join(tmpdir(), "aipm-bench-"));
  try {
    const t0 = performance.now();
    const store = await openStore({ db: join(dir, "aipm.db"), env: {}, now: () => NOW });
    try {
      const w = generate(n, join(dir, "project"));
      load(store, w);
      store.sqlite.pragma("wal_checkpoint(TRUNCATE)");
      const setupMs = performance.now() - t0;
      log(`detect-scale: n=${fmtN(n)} set up in ${(setupMs / 1000).toFixed(1)} s, measuring`);
      const runs = n >= 100_000 ? 3 : 5;

      let last: Detection | undefined;
      const fullMs = await timeRuns(runs, async () => {
        last = (
          await planLaunch(store, { project: PROJECT, order: ORDER, options: OPTIONS, dryRun: true })
        ).detection;
      });

      const read = () => {
        const order = getOrder(store, PROJECT, ORDER);
        const running = countRunning(store, PROJECT);
        return { order, running, tasks: loadProjectTasks(store, PROJECT), locks: loadLocks(store, PROJECT) };
      };
      const readMs = await timeRuns(runs, read);

      const data = read();
      const input: DetectInput = {
        tasks: data.tasks,
        orderId: ORDER,
        paused: data.order.paused,
        locks: data.locks,
        freeSlots: OPTIONS.maxWorkers - data.running,
        now: NOW,
      };
      const detectMs = await timeRuns(runs, () => detect(input));
      return { n, fullMs, readMs, detectMs, setupMs, detection: last!, running: data.running, freeSlots: input.freeSlots, w };
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REASONS = ["blocked", "paused", "dependency", "backoff", "file_conflict", "capacity"] as const;

function sizeResults(f: SizeFigures): Result[] {
  const at = `n=${fmtN(f.n)}`;
  const target = TARGETS_MS.get(f.n);
  const params = { tasks: f.n };
  const out: Result[] = [];
  const push = (r: Result) => void out.push({ ...r, params: { ...params, ...r.params } });
  push({
    name: `${at} full path (planLaunch --dry-run)`,
    value: f.fullMs,
    unit: "ms",
    ...(target !== undefined ? { target, pass: f.fullMs < target } : {}),
  });
  push({ name: `${at} full path throughput`, value: f.n / f.fullMs, unit: "tasks/ms" });
  push({ name: `${at} DB read (tasks, deps, files, locks, running)`, value: f.readMs, unit: "ms", sub: true });
  push({ name: `${at} detect() alone, on pre-loaded data`, value: f.detectMs, unit: "ms", sub: true });
  push({ name: `${at} detect() throughput`, value: f.n / f.detectMs, unit: "tasks/ms", sub: true });
  push({ name: `${at} setup (not timed: generate + import)`, value: f.setupMs, unit: "ms" });
  const s = f.w.stats;
  push({ name: `${at} workload: dependency edges`, value: s.deps, unit: "edges" });
  push({ name: `${at} workload: target entries (distinct)`, value: s.distinctEntries, unit: "entries", note: `${fmtN(s.entries)} in all` });
  push({
    name: `${at} workload: locked entries`,
    value: s.lockedEntries,
    unit: "entries",
    note: `${((100 * s.lockedEntries) / s.distinctEntries).toFixed(1)}% of distinct, ${fmtN(s.lockedGlobs)} globs, held by ${f.running} running tasks; free slots ${f.freeSlots}`,
  });
  push({ name: `${at} workload: FAILED or CANCELLED tasks`, value: s.failed, unit: "tasks" });
  const d = f.detection;
  const queued = d.launchable.length + d.skipped.length;
  push({ name: `${at} QUEUED tasks examined`, value: queued, unit: "tasks" });
  push({ name: `${at} launchable`, value: d.launchable.length, unit: "tasks", sub: true });
  const counts = new Map<string, number>();
  for (const sk of d.skipped) counts.set(sk.reason, (counts.get(sk.reason) ?? 0) + 1);
  for (const r of REASONS) push({ name: `${at} skipped: ${r}`, value: counts.get(r) ?? 0, unit: "tasks", sub: true });
  return out;
}

/** time(n2)/time(n1) against n2/n1, and the local exponent log(time ratio)/log(size ratio). */
function growthResults(all: SizeFigures[]): Result[] {
  const out: Result[] = [];
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    const sizeRatio = b.n / a.n;
    for (const [label, ta, tb] of [
      ["full path", a.fullMs, b.fullMs],
      ["DB read", a.readMs, b.readMs],
      ["detect()", a.detectMs, b.detectMs],
    ] as const) {
      const ratio = tb / ta;
      out.push({
        name: `growth ${fmtN(a.n)} -> ${fmtN(b.n)} ${label}`,
        value: ratio,
        unit: "x",
        params: { from: a.n, to: b.n, sizeRatio, exponent: Math.log(ratio) / Math.log(sizeRatio) },
        note: `size x${sizeRatio.toFixed(1)}, exponent ${(Math.log(ratio) / Math.log(sizeRatio)).toFixed(2)}`,
      });
    }
  }
  return out;
}

function sizesFromEnv(): number[] {
  const raw = process.env.BENCH_SIZES;
  if (!raw) return [...DEFAULT_SIZES];
  const sizes = raw.split(",").map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s < 10)) throw new Error(`BENCH_SIZES: expected sizes like 1000,10000, got '${raw}'`);
  return sizes;
}

export const detectScale: Suite = {
  name: "detect-scale",
  description: "detection + selection on generated orders of 1k-100k tasks (targets: 10k < 200 ms, 100k < 2 s)",
  async run({ log }) {
    const figures: SizeFigures[] = [];
    for (const n of sizesFromEnv()) figures.push(await measureSize(n, log));
    return [...figures.flatMap(sizeResults), ...growthResults(figures)];
  },
};
