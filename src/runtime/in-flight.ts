/**
 * Attempts in flight (tasks IN_PROGRESS with their current run), and what
 * became of the ones nobody watches: `recover` records the end of every
 * attempt whose owning aipm process is gone — from the exit status its
 * wrapper left behind, or as crashed when the worker vanished without one —
 * and reports the ones still running so that a supervisor can adopt them.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Store } from "../store/open.js";
import { stmt } from "../store/statements.js";
import { finish, recordSpawn, rollbackSpawn, type FinishResult } from "../store/transitions.js";
import { parseTrailer, TRAILER_MAX_BYTES } from "../../worker/task-wrapper.js";
import { findWrapperPid, isAlive, procStartTime } from "./proc.js";
import { existsSync } from "node:fs";
import { classifyEnd } from "./attempt-end.js";

export interface InFlight {
  project: string;
  order: string;
  task: string;
  attempt: number;
  pid: number | null;
  procStart: string | null;
  ownerPid: number | null;
  ownerStart: string | null;
  logPath: string;
  startedAt: number;
  timeoutS: number | null;
  killRequest: "cancel" | "requeue" | null;
}

export function loadInFlight(store: Store, project?: string): InFlight[] {
  const rows = stmt(
    store,
    `SELECT t.project_id AS project, t.order_id AS "order", t.id AS task, t.attempt, r.pid, r.proc_start AS procStart,
            r.owner_pid AS ownerPid, r.owner_start AS ownerStart, r.log_path AS logPath, r.started_at AS startedAt,
            t.timeout_s AS timeoutS, r.kill_request AS killRequest
       FROM tasks t JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.status = 'IN_PROGRESS' AND (@project IS NULL OR t.project_id = @project)
      ORDER BY t.seq`,
  ).all({ project: project ?? null }) as InFlight[];
  return rows;
}

/** The exit status a finished wrapper wrote at the end of the log, or null. */
export function readExitStatus(logPath: string): number | null {
  let fd: number;
  try {
    fd = openSync(logPath, "r");
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TRAILER_MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    return parseTrailer(buf.toString("latin1"));
  } finally {
    closeSync(fd);
  }
}

export function ownerAlive(f: InFlight): boolean {
  return f.ownerPid === process.pid || isAlive(f.ownerPid, f.ownerStart);
}

/** Makes this process the owner of an attempt whose owner is gone. */
export function takeOwnership(store: Store, f: InFlight, ownStart: string | null): boolean {
  return (
    stmt(
      store,
      `UPDATE runs SET owner_pid = ?, owner_start = ? WHERE project_id = ? AND task_id = ? AND attempt = ?
         AND outcome = 'running' AND owner_pid IS ?`,
    ).run(process.pid, ownStart, f.project, f.task, f.attempt, f.ownerPid).changes === 1
  );
}

export interface RecoverReport {
  /** Attempts whose end was recorded now. */
  finished: Array<{ project: string; task: string; attempt: number; status: string; how: "exit_status" | "crashed" }>;
  /** Claims whose process never started (the launcher died first): back to QUEUED. */
  rolled_back: Array<{ project: string; task: string }>;
  /** Workers still running with nobody watching them: a supervisor should adopt them. */
  orphans: Array<{ project: string; task: string; pid: number }>;
}

export function recordEnd(
  store: Store,
  f: InFlight,
  exitStatus: number | null,
  backoffS: number,
  review: boolean,
): FinishResult {
  const end = classifyEnd({
    exitCode: exitStatus,
    signal: null,
    vanished: exitStatus === null,
    killedFor: null,
    killRequest: f.killRequest,
  });
  return finish(store, { project: f.project, task: f.task, attempt: f.attempt, end, backoffS, review });
}

/**
 * A claim whose launcher died before recording the pid: the process may have
 * started all the same. Looks for its wrapper by command line and records its
 * pid when it runs ("running"); records the end from the log when it started
 * and is gone ("ended"); rolls the claim back when it never started.
 */
export function resolveUnrecorded(store: Store, f: InFlight, backoffS: number): "running" | "ended" | "rolled_back" | "nothing" {
  const pid = findWrapperPid(f.logPath);
  if (pid !== null) {
    f.pid = pid;
    f.procStart = procStartTime(pid);
    recordSpawn(store, { project: f.project, order: f.order, task: f.task, attempt: f.attempt, pid, procStart: f.procStart });
    return "running";
  }
  if (existsSync(f.logPath)) return recordEnd(store, f, readExitStatus(f.logPath), backoffS, false).ok ? "ended" : "nothing";
  const error = "the launching aipm process exited before the worker started";
  return rollbackSpawn(store, { project: f.project, order: f.order, task: f.task, attempt: f.attempt, error }) ? "rolled_back" : "nothing";
}

/** Records what became of every attempt whose owner is gone. Safe to run from any process at any time. */
export function recover(store: Store, opts: { project?: string; backoffS: number; review?: (f: InFlight) => boolean }): RecoverReport {
  const report: RecoverReport = { finished: [], rolled_back: [], orphans: [] };
  for (const f of loadInFlight(store, opts.project)) {
    if (ownerAlive(f)) continue;
    if (f.pid === null) {
      const r = resolveUnrecorded(store, f, opts.backoffS);
      if (r === "rolled_back") report.rolled_back.push({ project: f.project, task: f.task });
      if (r !== "running") continue;
    }
    const status = readExitStatus(f.logPath);
    if (status === null && f.pid !== null && isAlive(f.pid, f.procStart)) {
      report.orphans.push({ project: f.project, task: f.task, pid: f.pid });
      continue;
    }
    // Read again: the wrapper may have written its status between the two looks.
    const finalStatus = status ?? readExitStatus(f.logPath);
    const r = recordEnd(store, f, finalStatus, opts.backoffS, opts.review?.(f) ?? false);
    if (r.ok) {
      report.finished.push({
        project: f.project,
        task: f.task,
        attempt: f.attempt,
        status: r.status,
        how: finalStatus === null ? "crashed" : "exit_status",
      });
    }
  }
  return report;
}
