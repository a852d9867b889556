/**
 * Table `runs` (one row per attempt of a task, its review included), read
 * with the task it belongs to, and what a launch records on its run (scope
 * base, resumed session). Opening a run and recording its end are status
 * transitions: they live in ./transitions.ts.
 */
import type { Store } from "./open.js";
import type { KillRequest } from "./transitions.js";
import { stmt } from "./statements.js";
import { ATTEMPT_ROOT_SQL } from "./project-roots.js";

/** A task IN_PROGRESS with its current run. */
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
  killRequest: KillRequest | null;
  /** The host that claimed it; null for attempts older than hosts (they count as this host's). */
  host: string | null;
}

/** Every task IN_PROGRESS (of one project, or all) with its current run, in launch order. */
export function attemptsInFlight(store: Store, project?: string): InFlight[] {
  return stmt(
    store,
    `SELECT t.project_id AS project, t.order_id AS "order", t.id AS task, t.attempt, r.pid, r.proc_start AS "procStart",
            r.owner_pid AS "ownerPid", r.owner_start AS "ownerStart", r.log_path AS "logPath", r.started_at AS "startedAt",
            t.timeout_s AS "timeoutS", r.kill_request AS "killRequest", r.host
       FROM tasks t JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.status = 'IN_PROGRESS' AND (CAST(@project AS TEXT) IS NULL OR t.project_id = @project)
      ORDER BY t.seq`,
  ).all({ project: project ?? null }) as InFlight[];
}

/** A task in REVIEW with its review process. */
export interface ReviewInFlight {
  project: string;
  order: string;
  task: string;
  attempt: number;
  /** Null until the review process is started. */
  reviewPid: number | null;
  reviewProcStart: string | null;
  reviewLogPath: string | null;
  /** A review with no verdict is started again from this time. */
  reviewRetryAt: number | null;
  ownerPid: number | null;
  ownerStart: string | null;
  host: string | null;
}

/** Every task in REVIEW (of one project, or all) with its review, in launch order. */
export function reviewsInFlight(store: Store, project?: string): ReviewInFlight[] {
  return stmt(
    store,
    `SELECT t.project_id AS project, t.order_id AS "order", t.id AS task, t.attempt, r.review_pid AS "reviewPid",
            r.review_proc_start AS "reviewProcStart", r.review_log_path AS "reviewLogPath", r.review_retry_at AS "reviewRetryAt",
            r.owner_pid AS "ownerPid", r.owner_start AS "ownerStart", r.host
       FROM tasks t JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.status = 'REVIEW' AND (CAST(@project AS TEXT) IS NULL OR t.project_id = @project)
      ORDER BY t.seq`,
  ).all({ project: project ?? null }) as ReviewInFlight[];
}

/**
 * Makes `owner` the owner of a running (or reviewing) attempt, guarded by the
 * owner it had when read: false when another process took it first.
 */
export function adoptRun(
  store: Store,
  f: { project: string; task: string; attempt: number; ownerPid: number | null },
  owner: { pid: number; start: string | null },
): boolean {
  return (
    stmt(
      store,
      `UPDATE runs SET owner_pid = ?, owner_start = ? WHERE project_id = ? AND task_id = ? AND attempt = ?
         AND outcome IN ('running', 'reviewing') AND owner_pid IS NOT DISTINCT FROM ?`,
    ).run(owner.pid, owner.start, f.project, f.task, f.attempt, f.ownerPid).changes === 1
  );
}

/** The task's last attempt and its log, or undefined when it has not run. */
export function latestRun(store: Store, project: string, task: string): { attempt: number; log_path: string } | undefined {
  return stmt(store, "SELECT attempt, log_path FROM runs WHERE project_id = ? AND task_id = ? ORDER BY attempt DESC LIMIT 1").get(project, task) as
    | { attempt: number; log_path: string }
    | undefined;
}

/** The process an attempt runs now: its worker, or while it is reviewed its review process. */
export function runningPid(store: Store, project: string, task: string, attempt: number): number | null {
  return (
    (
      stmt(
        store,
        "SELECT CASE WHEN outcome = 'reviewing' THEN review_pid ELSE pid END AS pid FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?",
      ).get(project, task, attempt) as { pid: number | null } | undefined
    )?.pid ?? null
  );
}

/** An attempt's outcome (`running`, `reviewing`, `killed`, ...), undefined when it has no run. */
export function runOutcome(store: Store, project: string, task: string, attempt: number): string | undefined {
  return stmt(store, "SELECT outcome FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").pluck().get(project, task, attempt) as
    | string
    | undefined;
}

/** What recording an attempt's end needs to know of it: one SELECT on every task's path. */
export interface AttemptToConclude {
  agent: number;
  root: string;
  scope_base: string | null;
  started_at: number;
  kill_request: KillRequest | null;
}

export function attemptToConclude(store: Store, project: string, task: string, attempt: number): AttemptToConclude | undefined {
  return stmt(
    store,
    `SELECT t.prompt IS NOT NULL AS agent, ${ATTEMPT_ROOT_SQL} AS root, r.scope_base, r.started_at, r.kill_request
       FROM tasks t JOIN projects p ON p.id = t.project_id
       JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = ?
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(attempt, project, task) as AttemptToConclude | undefined;
}

/** The target files of the other tasks that had an attempt running between `from` and `to`. */
export function targetFilesOfConcurrentRuns(store: Store, project: string, task: string, from: number, to: number): string[] {
  return stmt(
    store,
    `SELECT DISTINCT f.path FROM runs r JOIN task_files f ON f.project_id = r.project_id AND f.task_id = r.task_id
      WHERE r.project_id = ? AND r.task_id <> ? AND r.started_at <= ? AND (r.finished_at IS NULL OR r.finished_at >= ?)`,
  )
    .pluck()
    .all(project, task, to, from) as string[];
}

export interface ConcurrentRun {
  task_id: string;
  log_path: string;
  edited_files: string | null;
  finished_at: number | null;
  agent: number;
}

/** The attempts of other tasks that ran between `from` and `to`. */
export function concurrentRuns(store: Store, project: string, task: string, from: number, to: number): ConcurrentRun[] {
  return stmt(
    store,
    `SELECT r.task_id, r.log_path, r.edited_files, r.finished_at, t.prompt IS NOT NULL AS agent
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.project_id = ? AND r.task_id <> ? AND r.started_at <= ? AND (r.finished_at IS NULL OR r.finished_at >= ?)`,
  ).all(project, task, to, from) as ConcurrentRun[];
}

export interface ReviewToStart {
  order_id: string;
  model: string | null;
  root: string;
  review_runs: number;
}

/** What starting the review of a task's attempt needs; undefined unless the task is in REVIEW at that attempt. */
export function reviewToStart(store: Store, project: string, task: string, attempt: number): ReviewToStart | undefined {
  return stmt(
    store,
    `SELECT t.order_id, t.model, ${ATTEMPT_ROOT_SQL} AS root, r.review_runs FROM tasks t
       JOIN projects p ON p.id = t.project_id
       JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.project_id = ? AND t.id = ? AND t.status = 'REVIEW' AND t.attempt = ?`,
  ).get(project, task, attempt) as ReviewToStart | undefined;
}

/** A reviewed attempt's kill request and how many review runs it had. */
export function reviewRunState(store: Store, project: string, task: string, attempt: number): { kill_request: KillRequest | null; review_runs: number } | undefined {
  return stmt(store, "SELECT kill_request, review_runs FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").get(project, task, attempt) as
    | { kill_request: KillRequest | null; review_runs: number }
    | undefined;
}

/** Runs that ended before `cutoff`, of tasks in a final status. */
export function finishedRunsBefore(store: Store, cutoff: number): Array<{ id: number; log_path: string }> {
  return stmt(
    store,
    `SELECT r.id, r.log_path FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.finished_at IS NOT NULL AND r.finished_at < ? AND t.status IN ('DONE', 'FAILED', 'CANCELLED', 'SKIPPED')`,
  ).all(cutoff) as Array<{ id: number; log_path: string }>;
}

/** Deletes these runs, in one IMMEDIATE transaction. */
export function deleteRuns(store: Store, ids: readonly number[]): void {
  const del = stmt(store, "DELETE FROM runs WHERE id = ?");
  store.conn
    .transaction(() => {
      for (const id of ids) del.run(id);
    })
    .immediate();
}

/** An earlier attempt's end, as resuming its agent session needs it. */
export interface PreviousRun {
  outcome: string;
  session_id: string | null;
  error: string | null;
}

export function previousRun(store: Store, project: string, task: string, attempt: number): PreviousRun | undefined {
  return stmt(store, "SELECT outcome, session_id, error FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").get(project, task, attempt) as
    | PreviousRun
    | undefined;
}

/** The attempt's scope base (JSON: what the scope check compares its edits against), recorded at launch. */
export function setScopeBase(store: Store, project: string, task: string, attempt: number, base: string): void {
  stmt(store, "UPDATE runs SET scope_base = ? WHERE project_id = ? AND task_id = ? AND attempt = ?").run(base, project, task, attempt);
}

/** The agent session the attempt continues, recorded at launch. */
export function setResumedFrom(store: Store, project: string, task: string, attempt: number, session: string): void {
  stmt(store, "UPDATE runs SET resumed_from = ? WHERE project_id = ? AND task_id = ? AND attempt = ?").run(session, project, task, attempt);
}

/** Portable (tests/pg/project-roots.test.ts runs it on PostgreSQL). */
export const HELD_ON_HOST_SQL = `SELECT t.id AS task, t.order_id AS ord, f.path AS path
       FROM tasks t JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
       LEFT JOIN task_files f ON f.project_id = t.project_id AND f.task_id = t.id
      WHERE t.project_id = ? AND t.status IN ('IN_PROGRESS', 'REVIEW') AND r.host = ?`;

/** The running (IN_PROGRESS, REVIEW) tasks of a project whose current attempt this host claimed: order and target files (git sync). */
export function heldOnHost(store: Store, project: string, host: string): Array<{ task: string; order: string; files: string[] }> {
  const rows = stmt(store, HELD_ON_HOST_SQL).all(project, host) as Array<{ task: string; ord: string; path: string | null }>;
  const out = new Map<string, { task: string; order: string; files: string[] }>();
  for (const r of rows) {
    let e = out.get(r.task);
    if (!e) out.set(r.task, (e = { task: r.task, order: r.ord, files: [] }));
    if (r.path !== null) e.files.push(r.path);
  }
  return [...out.values()];
}

/** Whether the attempt was launched for review (a success becomes REVIEW, not DONE). */
export function attemptReviewed(store: Store, project: string, task: string, attempt: number): boolean {
  return Boolean(stmt(store, "SELECT review FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").pluck().get(project, task, attempt));
}
