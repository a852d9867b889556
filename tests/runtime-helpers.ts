/**
 * Helpers for the runtime integration tests: real databases in temp folders,
 * the built binary run as real child processes, task commands that record
 * their own start and end times, and a cleanup that kills every process a
 * test started (found by a tag in their environment) so nothing is left
 * behind when a test fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import type { Store } from "../src/store/open.js";
import { BIN, cli, tempDir, writePlan, type CliResult } from "./helpers.js";
import { freshPgDatabase, onPostgres } from "./helpers/test-backend.js";

// ------------------------------------------------------------ polling

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
}

/** Polls `fn` until it returns a truthy value (returned) or the limit passes (throws). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 25;
  const until = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= until) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? "a condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ------------------------------------------------------------ processes

interface ProcInfo {
  pid: number;
  state: string;
  pgrp: number;
}

function procStat(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, state: rest[0] ?? "?", pgrp: Number(rest[2]) };
}

function allPids(): number[] {
  return readdirSync("/proc")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const pid of allPids()) {
    const s = procStat(pid);
    if (s && s.pgrp === pgid && s.state !== "Z" && s.state !== "X") out.push(pid);
  }
  return out;
}

function readNulFile(path: string): string[] {
  try {
    return readFileSync(path, "latin1").split("\0");
  } catch {
    return [];
  }
}

/** Live processes whose environment holds AIPM_TEST_TAG=tag (everything a test started inherits it). */
export function taggedProcesses(tag: string): Array<{ pid: number; cmdline: string[] }> {
  const want = `AIPM_TEST_TAG=${tag}`;
  const out: Array<{ pid: number; cmdline: string[] }> = [];
  for (const pid of allPids()) {
    if (pid === process.pid || !alive(pid)) continue;
    if (!readNulFile(`/proc/${pid}/environ`).includes(want)) continue;
    out.push({ pid, cmdline: readNulFile(`/proc/${pid}/cmdline`).filter((a) => a !== "") });
  }
  return out;
}

/** Detached supervisor processes (`dist/worker/supervise.js`) of this test. */
export function supervisorProcesses(tag: string): number[] {
  return taggedProcesses(tag)
    .filter((p) => p.cmdline.some((a) => a.endsWith("supervise.js")))
    .map((p) => p.pid);
}

export async function killTagged(tag: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const left = taggedProcesses(tag);
    if (left.length === 0 || Date.now() > until) return;
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------ a test's world

export interface Ctx {
  /** The temp folder (real path). */
  dir: string;
  /** The database file, or (AIPM_TEST_BACKEND=postgres) the database's URL. */
  db: string;
  /** The folder the database lives in (logs go under it); on PostgreSQL, `<dir>/.aipm`. */
  dbDir: string;
  /** Marks every process of this test. */
  tag: string;
  env: Record<string, string>;
}

const contexts: Ctx[] = [];
const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  children.clear();
  while (contexts.length) await killTagged(contexts.pop()!.tag);
});

/** A fresh folder and database; every command of the test runs with `env` (small thresholds, the tag). */
export function setup(extraEnv: Record<string, string> = {}): Ctx {
  const dir = realpathSync(tempDir("aipm-rt-"));
  // On PostgreSQL the db folder is the commands' nearest .aipm/ (they run in `dir`): made here,
  // so none of a parent folder's is taken.
  const dbDir = onPostgres ? join(dir, ".aipm") : join(dir, "state");
  if (onPostgres) mkdirSync(dbDir);
  const ctx: Ctx = {
    dir,
    db: onPostgres ? freshPgDatabase() : join(dbDir, "aipm.db"),
    dbDir,
    tag: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      AIPM_TEST_TAG: dir,
      AIPM_ENABLE_MONITORING: "false",
      // Short, so that supervision reacts fast; runtime-order.test.ts goes down to 20 ms to
      // check that a claim still starting is never taken for an abandoned one.
      AIPM_POLL_MS: "40",
      AIPM_RETRY_BACKOFF_S: "0.1",
      AIPM_KILL_GRACE_S: "1",
      ...extraEnv,
    },
  };
  mkdirSync(join(dir, "rec"), { recursive: true });
  contexts.push(ctx);
  return ctx;
}

export interface Started {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Starts the built binary with `--db` (unless `noDb`), without waiting for it. */
export function start(
  ctx: Ctx,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; noDb?: boolean } = {},
): Started {
  const argv = opts.noDb ? args : ["--db", ctx.db, ...args];
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd: opts.cwd ?? ctx.dir,
    env: { ...ctx.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const done = new Promise<CliResult>((resolve, reject) => {
    let code: number | null = null;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      children.delete(child);
      resolve({ code: code ?? -1, stdout, stderr });
    };
    child.on("error", reject);
    child.on("exit", (c, sig) => {
      code = c ?? (sig ? 128 : -1);
      // Normally 'close' follows at once; do not hang if a grandchild keeps a pipe open.
      setTimeout(finish, 2000).unref();
    });
    child.on("close", finish);
  });
  return { child, done };
}

/** Runs the built binary to its end. */
export function aipm(
  ctx: Ctx,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; noDb?: boolean } = {},
): Promise<CliResult> {
  return start(ctx, args, opts).done;
}

/** Runs a quick read (status, locks) in-process. */
export async function readJson<T = any>(ctx: Ctx, args: string[]): Promise<T> {
  const r = await cli(["--db", ctx.db, "--json", ...args], { cwd: ctx.dir, env: ctx.env });
  if (r.code !== 0) throw new Error(`aipm ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface TaskJson {
  task: string;
  order: string;
  status: string;
  blocked: boolean;
  attempt: number;
  pid: number | null;
  error: string | null;
  progress: { done: number; total: number } | null;
  [k: string]: unknown;
}

export async function statusTasks(ctx: Ctx, project: string, order?: string): Promise<TaskJson[]> {
  const s = await readJson<{ tasks: TaskJson[] }>(ctx, order ? ["status", project, order] : ["status", project]);
  return s.tasks;
}

export async function taskStatus(ctx: Ctx, project: string, task: string): Promise<TaskJson> {
  const t = (await statusTasks(ctx, project)).find((x) => x.task === task);
  if (!t) throw new Error(`no task ${task} in status`);
  return t;
}

/** Imports a plan (JSON) through the CLI. */
/** Imports `plan` (with `env`: as another host, which records its root there too). */
export async function importPlan(ctx: Ctx, plan: unknown, env: Record<string, string> = ctx.env): Promise<void> {
  const r = await cli(["--db", ctx.db, "import", writePlan(ctx.dir, "plan.json", plan)], { cwd: ctx.dir, env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

// ------------------------------------------------------------ self-recording task commands

export function recordPath(ctx: Ctx, task: string): string {
  return join(ctx.dir, "rec", `${task}.rec`);
}

/**
 * A task command that appends `start <ns> <attempt> <cwd>` to its record file,
 * runs `body` (a shell snippet; `$1`, `$2`... are `extra`), appends
 * `end <ns> <attempt>` and exits with the body's status. The record path is
 * passed as an argument ($0), never built into the script.
 */
export function recorded(ctx: Ctx, task: string, body = "sleep 0.3", extra: string[] = []): string[] {
  const script = `echo "start $(date +%s%N) $AIPM_ATTEMPT $(pwd)" >> "$0"; ${body}
s=$?; echo "end $(date +%s%N) $AIPM_ATTEMPT" >> "$0"; exit $s`;
  return ["sh", "-c", script, recordPath(ctx, task), ...extra];
}

export interface Interval {
  task: string;
  attempt: number;
  /** Milliseconds since the epoch (microsecond precision). */
  start: number;
  end: number | null;
  cwd: string;
}

const nsToMs = (ns: string): number => Number(BigInt(ns) / 1000n) / 1000;

/** The runs a task recorded, in order. */
export function readRecord(ctx: Ctx, task: string): Interval[] {
  const path = recordPath(ctx, task);
  if (!existsSync(path)) return [];
  const out: Interval[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const [kind, ns, attempt, ...cwd] = line.split(" ");
    if (kind === "start" && ns) out.push({ task, attempt: Number(attempt), start: nsToMs(ns), end: null, cwd: cwd.join(" ") });
    else if (kind === "end" && ns) {
      const open = [...out].reverse().find((i) => i.end === null && i.attempt === Number(attempt));
      if (open) open.end = nsToMs(ns);
    }
  }
  return out;
}

export function readRecords(ctx: Ctx, tasks: readonly string[]): Interval[] {
  return tasks.flatMap((t) => readRecord(ctx, t));
}

export function overlap(a: Interval, b: Interval): boolean {
  const aEnd = a.end ?? Infinity;
  const bEnd = b.end ?? Infinity;
  return a.start < bEnd && b.start < aEnd;
}

/** The most intervals open at one instant. */
export function maxConcurrent(intervals: readonly Interval[]): number {
  const points: Array<[number, number]> = [];
  for (const i of intervals) {
    points.push([i.start, +1]);
    points.push([i.end ?? Infinity, -1]);
  }
  // At equal times, an end comes before a start.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let max = 0;
  for (const [, d] of points) {
    n += d;
    max = Math.max(max, n);
  }
  return max;
}

/** The attempt's log path, as the contract places it. */
export function logPath(ctx: Ctx, project: string, task: string, attempt: number): string {
  return join(ctx.dbDir, "logs", project, task, `${attempt}.log`);
}

/** Pids the detached supervisors wrote in `<db folder>/logs/<project>/supervisor.log`. */
export function loggedSupervisorPids(ctx: Ctx, project: string): number[] {
  const path = join(ctx.dbDir, "logs", project, "supervisor.log");
  if (!existsSync(path)) return [];
  return [...readFileSync(path, "utf8").matchAll(/supervisor (\d+) for /g)].map((m) => Number(m[1]));
}

// ------------------------------------------------------------ a DAG with file conflicts

export interface DagTask {
  id: string;
  deps?: string[];
  files?: string[];
  priority?: string;
}

/**
 * 11 tasks with file conflicts: a directory against paths under it
 * (A `src/core/` vs B, J), a glob against a path it matches (C `docs/**` vs D),
 * a directory against files (I `lib/` vs E, F, G).
 */
export const DAG: DagTask[] = [
  { id: "A", files: ["src/core/"], priority: "P1" },
  { id: "B", files: ["src/core/util.ts"], priority: "P1" },
  { id: "C", files: ["docs/**/*.md"] },
  { id: "D", files: ["docs/guide/intro.md"], priority: "P0" },
  { id: "E", deps: ["A"], files: ["lib/e.ts"] },
  { id: "F", deps: ["A", "C"], files: ["lib/f.ts"] },
  { id: "G", deps: ["E"], files: ["lib/g.ts"] },
  { id: "H", files: ["test/h.ts"], priority: "P3" },
  { id: "I", deps: ["F", "H"], files: ["lib/"] },
  { id: "J", files: ["src/core/x/y.ts"], priority: "P0" },
  { id: "K", deps: ["I"] },
];

/** Pairs of DAG tasks whose target files conflict. */
export const DAG_CONFLICTS: Array<[string, string]> = [
  ["A", "B"],
  ["A", "J"],
  ["C", "D"],
  ["I", "E"],
  ["I", "F"],
  ["I", "G"],
];

export function dagPlan(ctx: Ctx, body = "sleep 0.3") {
  return {
    project: "demo",
    root: "./ws",
    orders: [
      {
        id: "O1",
        tasks: DAG.map((t) => ({
          id: t.id,
          ...(t.priority ? { priority: t.priority } : {}),
          deps: t.deps ?? [],
          target_files: t.files ?? [],
          command: recorded(ctx, t.id, body),
        })),
      },
    ],
  };
}

/** From the records: each task ran once, deps ended before dependents started, no conflicting overlap, the limit held. */
export function checkDagRecords(ctx: Ctx, maxWorkers: number): Interval[] {
  const recs = readRecords(
    ctx,
    DAG.map((t) => t.id),
  );
  for (const t of DAG) {
    const r = recs.filter((x) => x.task === t.id);
    expect(r, `${t.id} ran once`).toHaveLength(1);
    expect(r[0]!.end, `${t.id} ran to its end`).not.toBeNull();
  }
  const one = (id: string) => recs.find((r) => r.task === id)!;
  for (const t of DAG) {
    for (const d of t.deps ?? []) {
      expect(one(d).end!, `${d} ended before ${t.id} started`).toBeLessThan(one(t.id).start);
    }
  }
  for (const [a, b] of DAG_CONFLICTS) {
    expect(overlap(one(a), one(b)), `${a} and ${b} conflict and overlapped`).toBe(false);
  }
  expect(maxConcurrent(recs), `more than ${maxWorkers} tasks ran at once`).toBeLessThanOrEqual(maxWorkers);
  return recs;
}

// ------------------------------------------------------------ database reads (no aipm command: no recovery side effects)

export function taskRow(s: Store, project: string, task: string): Record<string, any> {
  return s.conn.prepare("SELECT * FROM tasks WHERE project_id = ? AND id = ?").get(project, task) as Record<string, any>;
}

export function statuses(s: Store, project: string): Record<string, string> {
  const rows = s.conn.prepare("SELECT id, status FROM tasks WHERE project_id = ? ORDER BY seq").all(project) as Array<{
    id: string;
    status: string;
  }>;
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

export function runRows(s: Store, project: string, task?: string): Array<Record<string, any>> {
  return s.conn
    .prepare(
      `SELECT task_id, attempt, outcome, exit_code, signal, error, pid FROM runs
        WHERE project_id = ? AND (CAST(? AS TEXT) IS NULL OR task_id = ?) ORDER BY task_id, attempt`,
    )
    .all(project, task ?? null, task ?? null) as Array<Record<string, any>>;
}

export function allDone(s: Store, project: string, count: number): boolean {
  const st = Object.values(statuses(s, project));
  return st.length === count && st.every((x) => x === "DONE");
}
