/**
 * Test helpers: a fresh temp folder per test, the CLI run in-process (fast)
 * or as the real built binary (for exit codes and stream purity end to end),
 * and plan files written to disk.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { runCli } from "../src/cli/app.js";
import { openStore, type Store } from "../src/store/open.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(REPO, "dist", "src", "cli", "main.js");

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

export function tempDir(prefix = "aipm-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with its own env (no AIPM_* leaks from the caller). */
export async function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { AIPM_ENABLE_MONITORING: "false", ...opts.env },
    cwd: opts.cwd,
    isTTY: false,
  });
  return { code, stdout, stderr };
}

/** Runs the built binary as a child process. */
export function bin(args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string }): CliResult {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, input: opts.input ?? "", encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function writePlan(dir: string, name: string, plan: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof plan === "string" ? plan : JSON.stringify(plan, null, 2));
  return path;
}

export async function store(dbPath: string): Promise<Store> {
  const s = await openStore({ db: dbPath, env: {} });
  cleanups.push(() => s.close());
  return s;
}

/** Every row of every table, to prove that a failed command wrote nothing. */
export function snapshot(s: Store): string {
  const tables = ["projects", "orders", "tasks", "task_deps", "task_files", "locks", "runs", "events"];
  return JSON.stringify(tables.map((t) => s.conn.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
}
