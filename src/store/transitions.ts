/**
 * Every change of a task's status, in one place. Each transition is one
 * IMMEDIATE transaction (or one guarded statement) that checks the state it
 * expects — status and attempt — and returns what happened instead of
 * assuming: a transition that finds the task moved on changes nothing and
 * says so (`{ ok: false, ... }`).
 *
 *   claim         QUEUED      -> IN_PROGRESS  locks taken, attempt number + 1, run row opened
 *   recordSpawn   IN_PROGRESS (same attempt)  pid and process start time recorded
 *   rollbackSpawn IN_PROGRESS -> QUEUED       the launcher died before starting it: the attempt is not counted
 *   failStart     IN_PROGRESS -> FAILED | QUEUED (backoff)  the process could not start (start_failed)
 *   finish        IN_PROGRESS -> DONE | REVIEW | QUEUED (retry, backoff) | FAILED | CANCELLED
 *   startReview   REVIEW (same attempt)      the review process's pid recorded
 *   rerunReview   REVIEW (same attempt)      no verdict (lost, silent, "try later"): start another
 *   finishReview  REVIEW      -> DONE (approved) | QUEUED (rejected, feedback kept) | FAILED | CANCELLED
 *   retry         FAILED | CANCELLED -> QUEUED  fresh attempts
 *   cancelQueued  QUEUED      -> CANCELLED
 *   requestKill   IN_PROGRESS: marks the run so that its end counts as killed
 *   recoverLost   IN_PROGRESS | REVIEW (same attempt) -> QUEUED (backoff) | FAILED: its host fell silent past the lease
 *   pause/resume  orders.paused
 *
 * Locks are released by every transition that leaves IN_PROGRESS/REVIEW.
 * The statements are prepared once per connection: these run once or twice
 * per task on the launch path.
 */
import type { SqlConn, SqlStatement } from "./sql-conn.js";
import type { Store } from "./open.js";
import type { TaskStatus } from "./schema.js";
import { LockIndex } from "../paths/lock-index.js";
import { hostHasLabels } from "../detect/host-need.js";
import { orderBudgetUsd, orderSpentUsd, projectHoldUntil } from "./agent-gates.js";
import { skipUnmeetable, unskip } from "./skip-unmeetable.js";
import { type DbKind, jsonNumber } from "./dialect.js";
import { beatHost } from "./hosts.js";

type Stmt = SqlStatement;

function statements(db: SqlConn, kind: DbKind) {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    task: p(
      "SELECT status, attempt, spent_attempts, max_attempts, retry_at, order_id, prompt IS NOT NULL AS agent, runs_on FROM tasks WHERE project_id = ? AND id = ?",
    ),
    budgetEvent: p(
      `SELECT 1 FROM events WHERE project_id = ? AND order_id = ? AND kind = 'order_budget_reached' AND ${jsonNumber(kind, "data", "budget_usd")} = ? LIMIT 1`,
    ).pluck(),
    orderPaused: p("SELECT paused FROM orders WHERE project_id = ? AND id = ?"),
    // Dependencies not ended as their condition asks (src/detect/conditions.ts).
    depsNotDone: p(
      `SELECT d.dep_id FROM task_deps d LEFT JOIN tasks t ON t.project_id = d.project_id AND t.id = d.dep_id
        WHERE d.project_id = ? AND d.task_id = ? AND NOT (
          (d.condition = 'success' AND COALESCE(t.status, '') = 'DONE') OR
          (d.condition = 'failure' AND COALESCE(t.status, '') = 'FAILED') OR
          (d.condition = 'always' AND COALESCE(t.status, '') IN ('DONE', 'FAILED', 'CANCELLED', 'SKIPPED')))`,
    ).pluck(),
    running: p("SELECT COUNT(*) FROM tasks WHERE project_id = ? AND status IN ('IN_PROGRESS', 'REVIEW')").pluck(),
    // This host's attempts in flight (those with no host, older than hosts, count as this host's).
    runningHere: p(
      `SELECT COUNT(*) FROM tasks t LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
        WHERE t.project_id = ? AND t.status IN ('IN_PROGRESS', 'REVIEW') AND (r.host = ? OR r.host IS NULL)`,
    ).pluck(),
    // An attempt whose host fell silent (recoverLost): guarded by status, attempt and the run's host.
    recoverTask: p(
      `UPDATE tasks SET status = @status, finished_at = @finished, exit_code = NULL, error = @error, failure_kind = 'crashed',
              retry_at = @retryAt, pid = NULL, updated_at = @now
        WHERE project_id = @project AND id = @task AND status IN ('IN_PROGRESS', 'REVIEW') AND attempt = @attempt
          AND EXISTS (SELECT 1 FROM runs r WHERE r.project_id = @project AND r.task_id = @task AND r.attempt = @attempt AND r.host = @host)
          AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.host = @host AND h.heartbeat_at >= @cutoff)`,
    ),
    closeLostRun: p(
      `UPDATE runs SET finished_at = ?, outcome = 'crashed', error = ?
        WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome IN ('running', 'reviewing')`,
    ),
    depIds: p("SELECT dep_id FROM task_deps WHERE project_id = ? AND task_id = ?").pluck(),
    locks: p("SELECT path, task_id FROM locks WHERE project_id = ?").raw(),
    files: p("SELECT path FROM task_files WHERE project_id = ? AND task_id = ? ORDER BY position").pluck(),
    start: p(
      `UPDATE tasks SET status = 'IN_PROGRESS', attempt = attempt + 1, spent_attempts = spent_attempts + 1,
              started_at = @now, finished_at = NULL,
              pid = NULL, exit_code = NULL, error = NULL, failure_kind = NULL, progress_done = NULL,
              progress_total = NULL, retry_at = NULL, updated_at = @now
        WHERE project_id = @project AND id = @task AND status = 'QUEUED'`,
    ),
    lock: p("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
    unlock: p("DELETE FROM locks WHERE project_id = ? AND task_id = ?"),
    openRun: p(
      `INSERT INTO runs (project_id, task_id, attempt, log_path, started_at, owner_pid, owner_start, outcome, review, host)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', (SELECT review FROM tasks WHERE project_id = ? AND id = ?) AND ?, ?)`,
    ),
    spawnTask: p("UPDATE tasks SET pid = ? WHERE project_id = ? AND id = ? AND status = 'IN_PROGRESS' AND attempt = ?"),
    spawnRun: p("UPDATE runs SET pid = ?, proc_start = ? WHERE project_id = ? AND task_id = ? AND attempt = ?"),
    requeueAfterSpawnFail: p(
      `UPDATE tasks SET status = 'QUEUED', spent_attempts = spent_attempts - 1, pid = NULL, error = ?, started_at = NULL,
              updated_at = ?
        WHERE project_id = ? AND id = ? AND status = 'IN_PROGRESS' AND attempt = ?`,
    ),
    failStartTask: p(
      `UPDATE tasks SET status = @status, spent_attempts = spent_attempts - @giveBack, pid = NULL, error = @error,
              failure_kind = 'start_failed', exit_code = NULL, retry_at = @retryAt, finished_at = @finished,
              started_at = CASE WHEN @status = 'QUEUED' THEN NULL ELSE started_at END, updated_at = @now
        WHERE project_id = @project AND id = @task AND status = 'IN_PROGRESS' AND attempt = @attempt`,
    ),
    recentOutcomes: p(
      `SELECT outcome FROM runs WHERE project_id = ? AND task_id = ? AND attempt < ?
          AND started_at > (SELECT COALESCE(MAX(ts), -1) FROM events
                              WHERE project_id = ? AND task_id = ? AND kind = 'task_retried_by_hand')
        ORDER BY attempt DESC LIMIT ?`,
    ).pluck(),
    closeRun: p(
      `UPDATE runs SET finished_at = ?, exit_code = ?, signal = ?, outcome = ?, error = ?
        WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome = 'running'`,
    ),
    endTask: p(
      `UPDATE tasks SET status = @status, finished_at = @finished, exit_code = @exit, error = @error,
              failure_kind = @kind, retry_at = @retryAt, pid = NULL, updated_at = @now
        WHERE project_id = @project AND id = @task AND status = 'IN_PROGRESS' AND attempt = @attempt`,
    ),
    event: p(
      "INSERT INTO events (ts, project_id, order_id, task_id, attempt, kind, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    retry: p(
      `UPDATE tasks SET status = 'QUEUED', spent_attempts = 0, retry_at = NULL, error = NULL, failure_kind = NULL,
              exit_code = NULL, finished_at = NULL, started_at = NULL, pid = NULL, updated_at = ?
        WHERE project_id = ? AND id = ? AND status IN ('FAILED', 'CANCELLED', 'SKIPPED')`,
    ),
    cancelQueued: p(
      `UPDATE tasks SET status = 'CANCELLED', finished_at = ?, updated_at = ?, error = ?
        WHERE project_id = ? AND id = ? AND status = 'QUEUED'`,
    ),
    killRequest: p(
      `UPDATE runs SET kill_request = ? WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome IN ('running', 'reviewing')`,
    ),
    runReview: p("SELECT review FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").pluck(),
    transientRuns: p(
      `SELECT COUNT(*) FROM runs WHERE project_id = ? AND task_id = ? AND started_at >= ? AND outcome IN ('rate_limit', 'api_error')`,
    ).pluck(),
    transientSince: p("SELECT transient_since FROM tasks WHERE project_id = ? AND id = ?").pluck(),
    setTransientSince: p("UPDATE tasks SET transient_since = ? WHERE project_id = ? AND id = ?"),
    holdProject: p(
      `UPDATE projects SET agent_hold_until = ?, agent_hold_reason = ?
        WHERE id = ? AND (agent_hold_until IS NULL OR agent_hold_until < ?)`,
    ),
    holdActive: p("SELECT agent_hold_until > ? FROM projects WHERE id = ?").pluck(),
    runStarted: p("SELECT started_at FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").pluck(),
    runStats: p(
      `UPDATE runs SET session_id = @session_id, num_turns = @num_turns, duration_ms = @duration_ms, cost_usd = @cost_usd,
              usage = @usage, out_of_scope = @out_of_scope, edited_files = @edited_files, denials = @denials
        WHERE project_id = @project AND task_id = @task AND attempt = @attempt`,
    ),
    taskResult: p("UPDATE tasks SET result = ? WHERE project_id = ? AND id = ?"),
    giveBackAttempt: p("UPDATE tasks SET spent_attempts = spent_attempts - 1 WHERE project_id = ? AND id = ?"),
    startReview: p(
      `UPDATE runs SET review_pid = @pid, review_proc_start = @procStart, review_log_path = @log, review_started_at = @now,
              review_runs = review_runs + 1, owner_pid = @owner, owner_start = @ownerStart
        WHERE project_id = @project AND task_id = @task AND attempt = @attempt AND outcome = 'reviewing' AND review_pid IS NULL`,
    ),
    reviewTaskPid: p("UPDATE tasks SET pid = ?, updated_at = ? WHERE project_id = ? AND id = ? AND status = 'REVIEW' AND attempt = ?"),
    rerunReview: p(
      `UPDATE runs SET review_pid = NULL, review_proc_start = NULL, review_retry_at = ?, review_runs = review_runs - ?
        WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome = 'reviewing' AND review_pid IS NOT DISTINCT FROM ?`,
    ),
    reviewerCost: p(
      `UPDATE runs SET review_cost_usd = COALESCE(review_cost_usd, 0) + ?, review_num_turns = COALESCE(review_num_turns, 0) + ?
        WHERE project_id = ? AND task_id = ? AND attempt = ?`,
    ),
    endReview: p(
      `UPDATE tasks SET status = @status, finished_at = @finished, error = @error, failure_kind = @kind,
              review_feedback = COALESCE(@feedback, review_feedback), pid = NULL, updated_at = @now
        WHERE project_id = @project AND id = @task AND status = 'REVIEW' AND attempt = @attempt`,
    ),
    closeReview: p(
      `UPDATE runs SET outcome = ?, error = ? WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome = 'reviewing'`,
    ),
    setPaused: p("UPDATE orders SET paused = ? WHERE project_id = ? AND id = ?"),
  };
}

type Statements = ReturnType<typeof statements>;
const cache = new WeakMap<SqlConn, Statements>();

function stmts(store: Store): Statements {
  let s = cache.get(store.conn);
  if (!s) {
    s = statements(store.conn, store.kind);
    cache.set(store.conn, s);
  }
  return s;
}

interface TaskState {
  status: TaskStatus;
  attempt: number;
  spent_attempts: number;
  max_attempts: number;
  retry_at: number | null;
  order_id: string;
  agent: number;
  /** JSON array of host labels, or null. */
  runs_on: string | null;
}

function event(
  s: Statements,
  now: number,
  project: string,
  order: string | null,
  task: string | null,
  attempt: number | null,
  kind: string,
  data: Record<string, unknown> = {},
): void {
  s.event.run(now, project, order, task, attempt, kind, JSON.stringify(data));
}

// ---------------------------------------------------------------- claim

export type ClaimRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "not_queued"; status: TaskStatus }
  | { ok: false; reason: "paused" }
  | { ok: false; reason: "host"; runs_on: string[] }
  | { ok: false; reason: "dependency"; waiting_for: string[] }
  | { ok: false; reason: "backoff"; retry_at: number }
  | { ok: false; reason: "rate_limit"; retry_at: number }
  | { ok: false; reason: "budget"; budget_usd: number; spent_usd: number }
  | { ok: false; reason: "capacity"; running: number }
  | { ok: false; reason: "file_conflict"; file: string; held_by: string };

export type ClaimResult = { ok: true; attempt: number; orderId: string; targetFiles: string[] } | ClaimRefusal;

export interface ClaimInput {
  project: string;
  task: string;
  /** The host's slot count: the claim fails when this host's attempts IN_PROGRESS + REVIEW >= this (the project's, with no host). */
  effectiveWorkers: number;
  /** Path of the attempt's log, given the attempt number the claim will take. */
  logPath: (attempt: number) => string;
  ownerPid: number;
  ownerStart: string | null;
  /** Skip the capacity check (execute-task runs the one task it was asked for). */
  ignoreCapacity?: boolean;
  /** False for a launch with --no-review: a success then goes straight to DONE. */
  review?: boolean;
  /** The host claiming (src/config/host.ts): recorded on the run. Absent: no host recorded. */
  host?: { name: string; labels: readonly string[] };
}

/**
 * QUEUED -> IN_PROGRESS, atomically: re-checks status, pause, host labels (`runs_on`), dependencies,
 * backoff, the free slots and every lock inside one IMMEDIATE transaction,
 * then takes the locks and opens the attempt's run.
 */
export function claim(store: Store, input: ClaimInput): ClaimResult {
  const s = stmts(store);
  const { project, task } = input;
  const tx = store.conn.transaction((): ClaimResult => {
    const now = store.now();
    const t = s.task.get(project, task) as TaskState | undefined;
    if (!t) return { ok: false, reason: "not_found" };
    if (t.status !== "QUEUED") return { ok: false, reason: "not_queued", status: t.status };
    const paused = s.orderPaused.get(project, t.order_id) as { paused: number } | undefined;
    if (paused?.paused) return { ok: false, reason: "paused" };
    if (t.runs_on !== null) {
      const runsOn = JSON.parse(t.runs_on) as string[];
      const labels = input.host?.labels ?? [];
      if (!hostHasLabels(runsOn, labels)) return { ok: false, reason: "host", runs_on: runsOn };
    }
    const waiting = s.depsNotDone.all(project, task) as string[];
    if (waiting.length > 0) return { ok: false, reason: "dependency", waiting_for: waiting };
    if (t.agent) {
      const budget = orderBudgetUsd(store, project, t.order_id);
      if (budget !== null) {
        const spent = orderSpentUsd(store, project, t.order_id);
        if (spent >= budget) return { ok: false, reason: "budget", budget_usd: budget, spent_usd: spent };
      }
      const hold = projectHoldUntil(store, project);
      if (hold !== null && hold > now) return { ok: false, reason: "rate_limit", retry_at: hold };
    }
    if (t.retry_at !== null && t.retry_at > now) return { ok: false, reason: "backoff", retry_at: t.retry_at };
    if (!input.ignoreCapacity) {
      // With hosts, the slots are per host: this host's attempts in flight.
      const running = (input.host ? s.runningHere.get(project, input.host.name) : s.running.get(project)) as number;
      if (running >= input.effectiveWorkers) return { ok: false, reason: "capacity", running };
    }
    const files = s.files.all(project, task) as string[];
    const held = s.locks.all(project) as Array<[string, string]>;
    if (held.length > 0 && files.length > 0) {
      const index = new LockIndex<string>();
      for (const [path, owner] of held) if (owner !== task) index.add(path, owner);
      const hit = index.findFirstConflict(files);
      if (hit) return { ok: false, reason: "file_conflict", file: hit.path, held_by: hit.owner };
    }
    if (s.start.run({ now, project, task }).changes !== 1) return { ok: false, reason: "not_queued", status: t.status };
    const attempt = t.attempt + 1;
    for (const f of files) s.lock.run(project, task, f, now);
    s.openRun.run(project, task, attempt, input.logPath(attempt), now, input.ownerPid, input.ownerStart, project, task, input.review === false ? 0 : 1, input.host?.name ?? null);
    if (input.host) noteHost(store, input.host, now);
    return { ok: true, attempt, orderId: t.order_id, targetFiles: files };
  });
  return tx.immediate();
}

/** When each host was last written by a claim on this connection: a host that claims is known, once a second at most. */
const hostNoted = new WeakMap<SqlConn, Map<string, number>>();

function noteHost(store: Store, host: { name: string; labels: readonly string[] }, now: number): void {
  let seen = hostNoted.get(store.conn);
  if (!seen) hostNoted.set(store.conn, (seen = new Map()));
  if (now - (seen.get(host.name) ?? -Infinity) < 1000) return;
  beatHost(store, { host: host.name, labels: host.labels }, now);
  seen.set(host.name, now);
}

/** Records the worker's pid and start time for the attempt. */
export function recordSpawn(
  store: Store,
  r: { project: string; order: string; task: string; attempt: number; pid: number; procStart: string | null },
): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      const ok = s.spawnTask.run(r.pid, r.project, r.task, r.attempt).changes === 1;
      if (!ok) return false;
      s.spawnRun.run(r.pid, r.procStart, r.project, r.task, r.attempt);
      event(s, store.now(), r.project, r.order, r.task, r.attempt, "task_started", { pid: r.pid });
      return true;
    })
    .immediate();
}

/**
 * The launching process died between the claim and the start, and the worker
 * never started: back to QUEUED, the attempt not counted, locks released,
 * error kept. (A process that failed to start is `failStart`.)
 */
export function rollbackSpawn(
  store: Store,
  r: { project: string; order: string; task: string; attempt: number; error: string },
): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      const now = store.now();
      if (s.requeueAfterSpawnFail.run(r.error, now, r.project, r.task, r.attempt).changes !== 1) return false;
      s.unlock.run(r.project, r.task);
      s.closeRun.run(now, null, null, "spawn_failed", r.error, r.project, r.task, r.attempt);
      event(s, now, r.project, r.order, r.task, r.attempt, "spawn_failed", { error: r.error });
      return true;
    })
    .immediate();
}

/** Transient start failures in a row after which the task FAILS all the same. */
export const MAX_START_TRIES = 5;
/** First wait after a transient start failure; doubles with each one in a row. */
export const START_RETRY_MS = 1000;

export type FailStartResult = { ok: true; status: "QUEUED" | "FAILED"; retryAt: number | null } | { ok: false };

/**
 * The process could not be started (`start_failed`, the reason kept). One
 * that will not pass (`permanent`: the program is missing or not
 * executable, the arguments are too long or invalid) FAILS the task at once,
 * whatever attempts remain; a transient one (out of processes, files or
 * memory) puts it back to QUEUED after a backoff (1 s, doubling), the attempt
 * given back — and FAILS it at the MAX_START_TRIES-th in a row (counted from
 * its runs since the last `retry` by hand). Locks released, run closed
 * `start_failed`; event `task_failed` (notified) or `task_retry`.
 */
export function failStart(
  store: Store,
  r: { project: string; order: string; task: string; attempt: number; error: string; permanent: boolean },
): FailStartResult {
  const s = stmts(store);
  return store.conn
    .transaction((): FailStartResult => {
      const now = store.now();
      let inARow = 1;
      if (!r.permanent) {
        const before = s.recentOutcomes.all(r.project, r.task, r.attempt, r.project, r.task, MAX_START_TRIES - 1) as string[];
        for (const o of before) {
          if (o !== "start_failed") break;
          inARow++;
        }
      }
      const failed = r.permanent || inARow >= MAX_START_TRIES;
      const status = failed ? "FAILED" : "QUEUED";
      const retryAt = failed ? null : now + START_RETRY_MS * 2 ** (inARow - 1);
      const changed = s.failStartTask.run({
        status,
        giveBack: failed ? 0 : 1,
        error: r.error,
        retryAt,
        finished: failed ? now : null,
        now,
        project: r.project,
        task: r.task,
        attempt: r.attempt,
      }).changes;
      if (changed !== 1) return { ok: false };
      s.unlock.run(r.project, r.task);
      s.closeRun.run(now, null, null, "start_failed", r.error, r.project, r.task, r.attempt);
      event(s, now, r.project, r.order, r.task, r.attempt, failed ? "task_failed" : "task_retry", {
        exit_code: null,
        error: r.error,
        failure_kind: "start_failed",
        ...(failed ? {} : { start_tries: inARow }),
        ...(retryAt ? { retry_at: new Date(retryAt).toISOString() } : {}),
      });
      if (failed) skipUnmeetable(store, now, r.project, [r.task]);
      return { ok: true, status, retryAt };
    })
    .immediate();
}

// ---------------------------------------------------------------- finish

/**
 * What `aipm kill` (or a preemption) asked of a running attempt: `cancel` it
 * (CANCELLED), `requeue` it (QUEUED, the attempt spent), or `preempt` it for a
 * higher-priority task (QUEUED, the attempt given back).
 */
export type KillRequest = "cancel" | "requeue" | "preempt";

/** How an attempt ended, as the supervisor or recovery saw it. */
export type AttemptEnd =
  | { kind: "success"; exitCode: 0 }
  | {
      kind: "failed";
      exitCode: number | null;
      signal: string | null;
      error: string;
      failureKind: string;
      /**
       * `free`: transient trouble (API errors, rate and usage limits): the attempt is
       * given back and the task waits until `retryAt`, or a capped doubling backoff
       * when no time is known; `never`: FAILED at once, whatever attempts remain.
       */
      retry?: "free" | "never" | undefined;
      retryAt?: number | undefined;
      /** A usage limit: every agent task of the project waits until `retryAt`. */
      holdProject?: boolean | undefined;
    }
  | { kind: "killed"; request: KillRequest; exitCode: number | null; signal: string | null };

export type FinishResult =
  /** `skipped`: the tasks this end made SKIPPED (their conditions can no longer be met). */
  | { ok: true; status: TaskStatus; retryAt: number | null; skipped?: string[] }
  | { ok: false; status: TaskStatus | null };

/** Attempts given back in a row (transient trouble); past this many, they count like any failure. */
export const MAX_FREE_RETRIES = 30;

/** How long transient trouble may last, and the cap of its doubling backoff (src/config/runtime-options.ts). */
export interface TransientPolicy {
  maxS: number;
  backoffMaxS: number;
}

const DEFAULT_TRANSIENT: TransientPolicy = { maxS: 3600, backoffMaxS: 300 };

export interface FinishInput {
  project: string;
  task: string;
  attempt: number;
  end: AttemptEnd;
  /** Seconds before the first retry; doubles with every further attempt. */
  backoffS: number;
  /** What the agent reported, files changed out of scope, the text its dependents see as its result. */
  report?: AttemptReport | undefined;
  transient?: TransientPolicy | undefined;
}

export interface AttemptReport {
  sessionId?: string | null;
  numTurns?: number | null;
  durationMs?: number | null;
  costUsd?: number | null;
  usage?: unknown;
  outOfScope?: readonly string[] | null;
  /** The task's `result` (the agent's final text, or the end of a command's output). */
  result?: string | null;
  /** Files its own file tools wrote; what it was refused. */
  editedFiles?: readonly string[] | null;
  denials?: ReadonlyArray<{ tool: string; target: string | null }> | null;
}

/**
 * IN_PROGRESS (this attempt) -> its next state: DONE (or REVIEW when the
 * attempt was launched for review), QUEUED after a backoff while attempts
 * remain (or at the given time, the attempt given back, for a rate limit),
 * FAILED, or CANCELLED/QUEUED after a kill. Locks are released except for
 * REVIEW.
 */
export function finish(store: Store, input: FinishInput): FinishResult {
  const s = stmts(store);
  const { project, task, attempt, end } = input;
  return store.conn
    .transaction((): FinishResult => {
      const now = store.now();
      const t = s.task.get(project, task) as TaskState | undefined;
      if (t?.status !== "IN_PROGRESS" || t.attempt !== attempt) return { ok: false, status: t?.status ?? null };
      let status: TaskStatus;
      let retryAt: number | null = null;
      let error: string | null = null;
      let failureKind: string | null = null;
      let outcome: string;
      /** A rate-limited attempt given back. */
      let free = false;
      if (end.kind === "success") {
        const review = (s.runReview.get(project, task, attempt) as number | undefined) === 1;
        status = review ? "REVIEW" : "DONE";
        outcome = review ? "reviewing" : "succeeded";
      } else if (end.kind === "killed" && end.request === "preempt") {
        // Stopped for a higher-priority task: back in the queue, the attempt given back.
        status = "QUEUED";
        error = "preempted by a higher-priority task (attempt given back)";
        outcome = "preempted";
        s.giveBackAttempt.run(project, task);
      } else if (end.kind === "killed") {
        status = end.request === "requeue" ? "QUEUED" : "CANCELLED";
        error = "killed";
        failureKind = "killed";
        outcome = "killed";
      } else {
        error = end.error;
        failureKind = end.failureKind;
        outcome = end.failureKind;
        /** Transient trouble that has lasted past the ceiling: FAILED. */
        let giveUp = false;
        if (end.retry === "free") {
          const policy = input.transient ?? DEFAULT_TRANSIENT;
          const since = (s.transientSince.get(project, task) as number | null) ?? ((s.runStarted.get(project, task, attempt) as number | undefined) ?? now);
          const inARow = (s.transientRuns.get(project, task, since) as number) + 1;
          // A known reset time (a usage limit) is waited for; unknown ones end after the ceiling.
          giveUp = end.retryAt === undefined && now - since > policy.maxS * 1000;
          // Past MAX_FREE_RETRIES in a row, an attempt counts like any failure (a misreading cannot loop forever).
          free = !giveUp && inARow <= MAX_FREE_RETRIES;
          if (giveUp) error = `${end.error}; transient API errors for ${Math.round((now - since) / 1000)}s (${inARow} runs): giving up`;
          if (free) {
            s.setTransientSince.run(since, project, task);
            const backoff = Math.min(policy.backoffMaxS * 1000, input.backoffS * 1000 * 2 ** (inARow - 1));
            retryAt = Math.max(now, end.retryAt ?? now + Math.round(backoff));
          }
        }
        if (giveUp) {
          status = "FAILED";
        } else if (free) {
          status = "QUEUED";
          s.giveBackAttempt.run(project, task);
          if (end.holdProject && retryAt !== null) {
            // Several workers meet the same limit: the hold is extended silently; one event (and notification) per hold.
            const wasHeld = s.holdActive.get(now, project) === 1;
            if (s.holdProject.run(wholeMs(retryAt), error, project, wholeMs(retryAt)).changes === 1 && !wasHeld) {
              event(s, now, project, t.order_id, task, attempt, "project_rate_limited", { until: new Date(retryAt).toISOString(), error });
            }
          }
        } else if (end.retry !== "never" && t.spent_attempts < t.max_attempts) {
          status = "QUEUED";
          retryAt = now + Math.round(input.backoffS * 1000 * 2 ** Math.max(0, t.spent_attempts - 1));
        } else {
          status = "FAILED";
        }
      }
      if (!free) s.setTransientSince.run(null, project, task);
      s.endTask.run({
        status,
        finished: status === "QUEUED" ? null : now,
        exit: end.exitCode,
        error,
        kind: failureKind,
        retryAt: wholeMs(retryAt),
        now,
        project,
        task,
        attempt,
      });
      if (status !== "REVIEW") s.unlock.run(project, task);
      const signal = end.kind === "success" ? null : end.signal;
      s.closeRun.run(now, end.exitCode, signal, outcome, error, project, task, attempt);
      const rep = input.report;
      if (
        rep &&
        (rep.sessionId != null || rep.costUsd != null || rep.numTurns != null || rep.outOfScope?.length || rep.editedFiles?.length || rep.denials?.length)
      ) {
        s.runStats.run({
          session_id: rep.sessionId ?? null,
          num_turns: rep.numTurns ?? null,
          duration_ms: rep.durationMs ?? null,
          cost_usd: rep.costUsd ?? null,
          usage: rep.usage === undefined || rep.usage === null ? null : JSON.stringify(rep.usage),
          out_of_scope: rep.outOfScope?.length ? JSON.stringify(rep.outOfScope) : null,
          edited_files: rep.editedFiles?.length ? JSON.stringify(rep.editedFiles) : null,
          denials: rep.denials?.length ? JSON.stringify(rep.denials) : null,
          project,
          task,
          attempt,
        });
      }
      if (rep?.result != null) s.taskResult.run(rep.result, project, task);
      if (rep?.costUsd != null) noteBudget(store, s, now, project, t.order_id);
      const kind =
        status === "DONE" ? "task_done"
        : status === "REVIEW" ? "task_review"
        : status === "FAILED" ? "task_failed"
        : status === "CANCELLED" ? "task_killed"
        : end.kind === "killed" ? (end.request === "preempt" ? "task_preempted" : "task_requeued")
        : free ? "task_rate_limited"
        : "task_retry";
      event(s, now, project, t.order_id, task, attempt, kind, {
        exit_code: end.exitCode,
        ...(signal ? { signal } : {}),
        ...(error ? { error, failure_kind: failureKind } : {}),
        ...(retryAt ? { retry_at: new Date(retryAt).toISOString() } : {}),
        ...(rep?.costUsd != null ? { cost_usd: rep.costUsd } : {}),
        ...(rep?.numTurns != null ? { num_turns: rep.numTurns } : {}),
      });
      if (rep?.outOfScope?.length) {
        event(s, now, project, t.order_id, task, attempt, "scope_violation", { files: rep.outOfScope });
      }
      const skipped = status === "DONE" || status === "FAILED" || status === "CANCELLED" ? skipUnmeetable(store, now, project, [task]) : [];
      return { ok: true, status, retryAt, ...(skipped.length ? { skipped } : {}) };
    })
    .immediate();
}

// ---------------------------------------------------------------- review

/** Records the review process of a REVIEW task's attempt (only one: a second start changes nothing). */
export function startReview(
  store: Store,
  r: { project: string; task: string; attempt: number; pid: number; procStart: string | null; logPath: string; ownerStart: string | null },
): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      const now = store.now();
      const t = s.task.get(r.project, r.task) as TaskState | undefined;
      if (t?.status !== "REVIEW" || t.attempt !== r.attempt) return false;
      const ok =
        s.startReview.run({
          pid: r.pid,
          procStart: r.procStart,
          log: r.logPath,
          now,
          owner: process.pid,
          ownerStart: r.ownerStart,
          project: r.project,
          task: r.task,
          attempt: r.attempt,
        }).changes === 1;
      if (!ok) return false;
      s.reviewTaskPid.run(r.pid, now, r.project, r.task, r.attempt);
      event(s, now, r.project, t.order_id, r.task, r.attempt, "review_started", { pid: r.pid });
      return true;
    })
    .immediate();
}

/** What a stream-json reviewer reported: added to the attempt's run with the review's end. */
export interface ReviewerCost {
  costUsd: number | null;
  numTurns: number | null;
}

function addReviewerCost(store: Store, s: Statements, r: { project: string; task: string; attempt: number }, cost: ReviewerCost | null | undefined): void {
  if (!cost || (cost.costUsd === null && cost.numTurns === null)) return;
  s.reviewerCost.run(cost.costUsd ?? 0, cost.numTurns ?? 0, r.project, r.task, r.attempt);
  const t = s.task.get(r.project, r.task) as TaskState | undefined;
  if (t && cost.costUsd) noteBudget(store, s, Date.now(), r.project, t.order_id);
}

/** Once an order's spent cost reaches its budget: one `order_budget_reached` event (notified). */
function noteBudget(store: Store, s: Statements, now: number, project: string, order: string): void {
  const budget = orderBudgetUsd(store, project, order);
  if (budget == null) return;
  const spent = orderSpentUsd(store, project, order);
  // Once per budget: raising it by a new import and reaching it again is said again.
  if (spent < budget || s.budgetEvent.get(project, order, budget)) return;
  event(s, now, project, order, null, null, "order_budget_reached", { budget_usd: budget, spent_usd: Math.round(spent * 1e4) / 1e4 });
}

/**
 * The review process `pid` of this attempt ended without a verdict (lost,
 * silent, or it said "try later"): clear it so that another one starts, not
 * before `retryAt`. `free`: this run does not count against the limit (the
 * reviewer hit a usage limit). False when another process got there first.
 */
export function rerunReview(
  store: Store,
  r: { project: string; task: string; attempt: number; pid: number | null; retryAt: number | null; free?: boolean; why: string; cost?: ReviewerCost | null },
): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      if (s.rerunReview.run(wholeMs(r.retryAt), r.free ? 1 : 0, r.project, r.task, r.attempt, r.pid).changes !== 1) return false;
      addReviewerCost(store, s, r, r.cost);
      const t = s.task.get(r.project, r.task) as TaskState;
      event(s, store.now(), r.project, t.order_id, r.task, r.attempt, "review_no_verdict", {
        pid: r.pid,
        why: r.why,
        ...(r.retryAt ? { retry_at: new Date(r.retryAt).toISOString() } : {}),
      });
      return true;
    })
    .immediate();
}

export type ReviewVerdict =
  | { kind: "approved" }
  | { kind: "rejected"; feedback: string }
  /** The review could not run (its command is missing, it kept vanishing): the task FAILS. */
  | { kind: "error"; error: string }
  /** Approved, but git sync could not push its edits (src/git-sync/): a `scope` failure, retried while attempts remain. */
  | { kind: "unpublished"; error: string }
  | { kind: "killed"; request: KillRequest };

/**
 * REVIEW (this attempt) -> DONE when approved; QUEUED with the feedback when
 * rejected (the attempt stays spent: FAILED when none remain); FAILED when
 * the review could not run; CANCELLED/QUEUED after a kill. Locks released.
 */
export function finishReview(
  store: Store,
  r: { project: string; task: string; attempt: number; verdict: ReviewVerdict; cost?: ReviewerCost | null },
): FinishResult {
  const s = stmts(store);
  const { project, task, attempt, verdict } = r;
  return store.conn
    .transaction((): FinishResult => {
      const now = store.now();
      const t = s.task.get(project, task) as TaskState | undefined;
      if (t?.status !== "REVIEW" || t.attempt !== attempt) return { ok: false, status: t?.status ?? null };
      let status: TaskStatus;
      let error: string | null = null;
      let kind: string | null = null;
      let feedback: string | null = null;
      let outcome: string;
      let ev: string;
      switch (verdict.kind) {
        case "approved":
          status = "DONE";
          outcome = "succeeded";
          ev = "task_done";
          break;
        case "rejected":
          feedback = verdict.feedback;
          status = t.spent_attempts < t.max_attempts ? "QUEUED" : "FAILED";
          error = "review rejected the attempt";
          kind = "review_rejected";
          outcome = "review_rejected";
          ev = status === "FAILED" ? "task_failed" : "review_rejected";
          break;
        case "unpublished":
          status = t.spent_attempts < t.max_attempts ? "QUEUED" : "FAILED";
          error = verdict.error;
          kind = "scope";
          outcome = "failed";
          ev = status === "FAILED" ? "task_failed" : "task_retry";
          break;
        case "error":
          status = "FAILED";
          error = verdict.error;
          kind = "review_error";
          outcome = "review_error";
          ev = "task_failed";
          break;
        case "killed":
          status = verdict.request === "cancel" ? "CANCELLED" : "QUEUED";
          error = "killed";
          kind = "killed";
          outcome = "killed";
          ev = status === "QUEUED" ? "task_requeued" : "task_killed";
          break;
      }
      s.endReview.run({
        status,
        finished: status === "QUEUED" ? null : now,
        error,
        kind,
        feedback,
        now,
        project,
        task,
        attempt,
      });
      s.unlock.run(project, task);
      addReviewerCost(store, s, r, r.cost);
      s.closeReview.run(outcome, error, project, task, attempt);
      event(s, now, project, t.order_id, task, attempt, ev, {
        reviewed: true,
        ...(error ? { error, failure_kind: kind } : {}),
        ...(feedback ? { feedback: feedback.slice(0, 500) } : {}),
      });
      const skipped = status === "DONE" || status === "FAILED" || status === "CANCELLED" ? skipUnmeetable(store, now, project, [task]) : [];
      return { ok: true, status, retryAt: null, ...(skipped.length ? { skipped } : {}) };
    })
    .immediate();
}

// ---------------------------------------------------------------- by hand

/**
 * FAILED | CANCELLED | SKIPPED -> QUEUED with fresh attempts; the tasks
 * skipped because of it are judged again (QUEUED, or SKIPPED again).
 */
export function retry(store: Store, project: string, task: string): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      const now = store.now();
      if (s.retry.run(now, project, task).changes !== 1) return false;
      const t = s.task.get(project, task) as TaskState;
      event(s, now, project, t.order_id, task, null, "task_retried_by_hand");
      unskip(store, now, project, task);
      // A retried SKIPPED task whose conditions still cannot be met is SKIPPED again.
      skipUnmeetable(store, now, project, s.depIds.all(project, task) as string[]);
      return true;
    })
    .immediate();
}

/** QUEUED -> CANCELLED (a task killed before it started). */
export function cancelQueued(store: Store, project: string, task: string): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      const now = store.now();
      if (s.cancelQueued.run(now, now, "cancelled before it started", project, task).changes !== 1) return false;
      const t = s.task.get(project, task) as TaskState;
      event(s, now, project, t.order_id, task, null, "task_killed", { before_start: true });
      skipUnmeetable(store, now, project, [task]);
      return true;
    })
    .immediate();
}

// ---------------------------------------------------------------- hosts

/** Epoch milliseconds as a whole number: PostgreSQL's BIGINT refuses a fraction (a reset time or a backoff computed from fractional seconds). */
function wholeMs<T extends number | null>(ms: T): T {
  return (ms === null ? null : Math.round(ms)) as T;
}

export interface LostInput {
  project: string;
  task: string;
  attempt: number;
  /** The silent host the attempt ran on: the transition changes nothing unless the attempt is still its. */
  host: string;
  /** The host recovering it (named in the error and the event). */
  by: string;
  /** Its last heartbeat (null: never seen; judged from the attempt's start) and the lease. */
  heartbeatAt: number | null;
  leaseS: number;
  backoffS: number;
}

/**
 * IN_PROGRESS | REVIEW (this attempt, on this silent host) -> QUEUED after a
 * backoff while attempts remain, else FAILED: the attempt counted as
 * `crashed`, its locks released, its run closed, one event. Guarded by the
 * status, the attempt and the run's host, so that of several hosts
 * recovering it only one changes anything, and a late end from the silent
 * host (`finish` guards status and attempt) is refused afterwards.
 */
export function recoverLost(store: Store, input: LostInput): FinishResult {
  const s = stmts(store);
  const { project, task, attempt } = input;
  return store.conn
    .transaction((): FinishResult => {
      const now = store.now();
      const t = s.task.get(project, task) as TaskState | undefined;
      if ((t?.status !== "IN_PROGRESS" && t?.status !== "REVIEW") || t.attempt !== attempt) return { ok: false, status: t?.status ?? null };
      const silentS = input.heartbeatAt === null ? null : Math.round((now - input.heartbeatAt) / 100) / 10;
      const error =
        silentS === null
          ? `host ${input.host} never heartbeat within AIPM_HOST_LEASE_S=${input.leaseS} s of starting the attempt: recovered by ${input.by}`
          : `host ${input.host} silent for ${silentS} s (AIPM_HOST_LEASE_S=${input.leaseS}): attempt recovered by ${input.by}`;
      const again = t.spent_attempts < t.max_attempts;
      const status: TaskStatus = again ? "QUEUED" : "FAILED";
      const retryAt = again ? now + Math.round(input.backoffS * 1000 * 2 ** Math.max(0, t.spent_attempts - 1)) : null;
      const changed = s.recoverTask.run({
        status,
        finished: again ? null : now,
        error,
        retryAt,
        now,
        project,
        task,
        attempt,
        host: input.host,
        // Re-checked here, in the transaction: a host that beat again since it was found silent keeps its attempt.
        cutoff: Math.round(now - input.leaseS * 1000),
      }).changes;
      if (changed !== 1) return { ok: false, status: t.status };
      s.unlock.run(project, task);
      s.closeLostRun.run(now, error, project, task, attempt);
      s.setTransientSince.run(null, project, task);
      event(s, now, project, t.order_id, task, attempt, again ? "task_retry" : "task_failed", {
        exit_code: null,
        error,
        failure_kind: "crashed",
        host: input.host,
        recovered_by: input.by,
        ...(retryAt ? { retry_at: new Date(retryAt).toISOString() } : {}),
      });
      const skipped = again ? [] : skipUnmeetable(store, now, project, [task]);
      return { ok: true, status, retryAt, ...(skipped.length ? { skipped } : {}) };
    })
    .immediate();
}

/** Marks the running attempt so that its end is recorded as killed (`cancel`) or requeued. */
export function requestKill(
  store: Store,
  r: { project: string; task: string; attempt: number; request: KillRequest },
): boolean {
  return stmts(store).killRequest.run(r.request, r.project, r.task, r.attempt).changes === 1;
}

export function setPaused(store: Store, project: string, order: string, paused: boolean): boolean {
  const s = stmts(store);
  return store.conn
    .transaction(() => {
      if (s.setPaused.run(paused ? 1 : 0, project, order).changes !== 1) return false;
      event(s, store.now(), project, order, null, null, paused ? "order_paused" : "order_resumed");
      return true;
    })
    .immediate();
}
