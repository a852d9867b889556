/**
 * Attempts in flight (tasks IN_PROGRESS with their current run, and tasks in
 * REVIEW with their review process), and what became of the ones nobody
 * watches: `recover` records the end of every attempt (or review) whose
 * owning aipm process is gone — from the exit file its wrapper left behind
 * (read only once the wrapper is gone), or as crashed/lost when the process
 * vanished without one — and reports the
 * ones still running, and the reviews still to start, so that a supervisor
 * can take them over. Pids are judged only for this host's attempts; those
 * of another host are recovered when that host has been silent past
 * AIPM_HOST_LEASE_S (./host-liveness.ts).
 */
import { readFileSync } from "node:fs";
import type { Store } from "../store/open.js";
import { adoptRun, attemptsInFlight, reviewsInFlight, type InFlight, type ReviewInFlight } from "../store/runs.js";
import { recordSpawn, rollbackSpawn, type FinishResult } from "../store/transitions.js";
import { exitFileFor, parseExitFile } from "../../worker/task-wrapper.js";
import { findWrapperPid, isAlive, procStartTime } from "./proc.js";
import { existsSync } from "node:fs";
import { concludeAttempt } from "./conclude-attempt.js";
import { capLog, LOG_MAX_MB_DEFAULT, resolveLogMaxBytes } from "./log-cap.js";
import { concludeReview, isRerun } from "./review-task.js";
import { thisHost } from "../config/host.js";
import { hostLeaseS, isHere, recoverSilentHosts } from "./host-liveness.js";

export type { InFlight, ReviewInFlight };

export function loadInFlight(store: Store, project?: string): InFlight[] {
  return attemptsInFlight(store, project);
}

export function loadReviewsInFlight(store: Store, project?: string): ReviewInFlight[] {
  return reviewsInFlight(store, project);
}

/**
 * The exit status the wrapper writing `logPath` left in its exit file, or
 * null (none, or not a complete one). Call it only once the wrapper is gone.
 */
export function readExitStatus(logPath: string): number | null {
  try {
    return parseExitFile(readFileSync(exitFileFor(logPath), "latin1"));
  } catch {
    return null;
  }
}

export function ownerAlive(f: Pick<InFlight, "ownerPid" | "ownerStart">): boolean {
  return f.ownerPid === process.pid || isAlive(f.ownerPid, f.ownerStart);
}

/** Makes this process the owner of an attempt whose owner is gone. */
export function takeOwnership(
  store: Store,
  f: Pick<InFlight, "project" | "task" | "attempt" | "ownerPid">,
  ownStart: string | null,
): boolean {
  return adoptRun(store, f, { pid: process.pid, start: ownStart });
}

export interface RecoverReport {
  /** Attempts whose end was recorded now. */
  finished: Array<{ project: string; task: string; attempt: number; status: string; how: "exit_status" | "crashed" }>;
  /** Claims whose process never started (the launcher died first): back to QUEUED. */
  rolled_back: Array<{ project: string; task: string }>;
  /** Workers (and review processes) still running with nobody watching them: a supervisor should adopt them. */
  orphans: Array<{ project: string; task: string; pid: number }>;
  /** REVIEW tasks whose review process is not running: a supervisor should start it. */
  reviews_pending: Array<{ project: string; task: string }>;
}

export interface EndTiming {
  backoffS: number;
  rateLimitWaitS: number;
  /** The log cap (AIPM_LOG_MAX_MB in bytes); default: from the environment. */
  logMaxBytes?: number;
}

function logCapOf(t: EndTiming): number {
  if (t.logMaxBytes !== undefined) return t.logMaxBytes;
  try {
    return resolveLogMaxBytes(process.env);
  } catch {
    return LOG_MAX_MB_DEFAULT * 1024 * 1024;
  }
}

export function recordEnd(store: Store, f: InFlight, exitStatus: number | null, t: EndTiming): FinishResult {
  // Ended while nobody followed its log: cap it now.
  capLog(f.logPath, logCapOf(t));
  return concludeAttempt(store, {
    project: f.project,
    task: f.task,
    attempt: f.attempt,
    logPath: f.logPath,
    seen: { exitCode: exitStatus, signal: null, vanished: exitStatus === null },
    backoffS: t.backoffS,
    rateLimitWaitS: t.rateLimitWaitS,
  });
}

/**
 * A claim whose launcher died before recording the pid: the process may have
 * started all the same. Looks for its wrapper by command line and records its
 * pid when it runs ("running"); records the end from the log when it started
 * and is gone ("ended"); rolls the claim back when it never started.
 */
export function resolveUnrecorded(store: Store, f: InFlight, t: EndTiming): "running" | "ended" | "rolled_back" | "nothing" {
  const pid = findWrapperPid(f.logPath);
  if (pid !== null) {
    f.pid = pid;
    f.procStart = procStartTime(pid);
    recordSpawn(store, { project: f.project, order: f.order, task: f.task, attempt: f.attempt, pid, procStart: f.procStart });
    return "running";
  }
  // The wrapper creates the log: it started, and it is gone.
  if (existsSync(f.logPath)) return recordEnd(store, f, readExitStatus(f.logPath), t).ok ? "ended" : "nothing";
  const error = "the launching aipm process exited before the worker started";
  return rollbackSpawn(store, { project: f.project, order: f.order, task: f.task, attempt: f.attempt, error }) ? "rolled_back" : "nothing";
}

/** This host's name and AIPM_HOST_LEASE_S, as `recover` takes them, from `env`. */
export function hostOfEnv(env: NodeJS.ProcessEnv): { host: string; leaseS: number } {
  return { host: thisHost(env).name, leaseS: hostLeaseS(env) };
}

/** This host and its lease, from the environment unless given. */
function hostOf(opts: { host?: string; leaseS?: number }): { host: string; leaseS: number } {
  return { host: opts.host ?? thisHost(process.env).name, leaseS: opts.leaseS ?? hostLeaseS(process.env) };
}

/**
 * Records what became of every attempt whose owner is gone: this host's by
 * their pids, other hosts' by their heartbeats (`host`, `leaseS`: default
 * from AIPM_HOST and AIPM_HOST_LEASE_S). Safe to run from any process at any time.
 *
 * `gitSync`: git sync is wanted here (src/git-sync/): an attempt (or an
 * approving review) that ended with exit status 0 is left to a supervisor,
 * which publishes its edits before recording it DONE; it is reported as an
 * orphan so that one is started.
 */
export function recover(store: Store, opts: { project?: string; host?: string; leaseS?: number; gitSync?: boolean } & EndTiming): RecoverReport {
  const report: RecoverReport = { finished: [], rolled_back: [], orphans: [], reviews_pending: [] };
  const { host, leaseS } = hostOf(opts);
  for (const r of recoverSilentHosts(store, { project: opts.project, host, leaseS, backoffS: opts.backoffS })) {
    report.finished.push({ project: r.project, task: r.task, attempt: r.attempt, status: r.status, how: "crashed" });
  }
  for (const f of loadInFlight(store, opts.project)) {
    if (!isHere(f, host)) continue;
    if (ownerAlive(f)) continue;
    if (f.pid === null) {
      const r = resolveUnrecorded(store, f, opts);
      if (r === "rolled_back") report.rolled_back.push({ project: f.project, task: f.task });
      if (r !== "running") continue;
    }
    if (f.pid !== null && isAlive(f.pid, f.procStart)) {
      report.orphans.push({ project: f.project, task: f.task, pid: f.pid });
      continue;
    }
    // The wrapper is gone: its exit file is complete, or there is none.
    const finalStatus = readExitStatus(f.logPath);
    if (opts.gitSync && finalStatus === 0) {
      report.orphans.push({ project: f.project, task: f.task, pid: f.pid ?? 0 });
      continue;
    }
    const r = recordEnd(store, f, finalStatus, opts);
    if (r.ok) {
      report.finished.push({
        project: f.project,
        task: f.task,
        attempt: f.attempt,
        status: r.status,
        how: finalStatus === null ? "crashed" : "exit_status",
      });
      if (r.status === "REVIEW") report.reviews_pending.push({ project: f.project, task: f.task });
    }
  }
  for (const v of loadReviewsInFlight(store, opts.project)) {
    if (!isHere(v, host)) continue;
    if (ownerAlive(v)) continue;
    if (v.reviewPid === null || v.reviewLogPath === null) {
      report.reviews_pending.push({ project: v.project, task: v.task });
      continue;
    }
    if (isAlive(v.reviewPid, v.reviewProcStart)) {
      report.orphans.push({ project: v.project, task: v.task, pid: v.reviewPid });
      continue;
    }
    const finalStatus = readExitStatus(v.reviewLogPath);
    if (opts.gitSync && finalStatus === 0) {
      report.orphans.push({ project: v.project, task: v.task, pid: v.reviewPid });
      continue;
    }
    const r = concludeReview(store, {
      project: v.project,
      task: v.task,
      attempt: v.attempt,
      pid: v.reviewPid,
      logPath: v.reviewLogPath,
      exitCode: finalStatus,
      lost: finalStatus === null,
      backoffS: opts.backoffS,
    });
    if (r.ok) report.finished.push({ project: v.project, task: v.task, attempt: v.attempt, status: r.status, how: "exit_status" });
    else if (isRerun(r)) report.reviews_pending.push({ project: v.project, task: v.task });
  }
  return report;
}
