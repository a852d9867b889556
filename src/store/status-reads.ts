/**
 * The reads behind `aipm status` and `aipm locks` (src/report/status.ts):
 * every task of a scope with its current attempt's log, an order's paused
 * flag, and the locks held.
 */
import type { Store } from "./open.js";
import type { TaskStatus } from "./statuses.js";
import { stmt } from "./statements.js";

export interface StatusTaskRow {
  project_id: string;
  id: string;
  order_id: string;
  title: string;
  status: TaskStatus;
  priority: string;
  attempt: number;
  max_attempts: number;
  /** Attempts that count against max_attempts (free retries and given-back attempts do not). */
  spent_attempts: number;
  pid: number | null;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  error: string | null;
  failure_kind: string | null;
  retry_at: number | null;
  progress_done: number | null;
  progress_total: number | null;
  progress_label: string | null;
  /** The current attempt's log (its review's while the task is in REVIEW). */
  log_path: string | null;
  /** JSON array of the current attempt's permission denials, or null. */
  denials: string | null;
  /** The host of the current (or last) attempt; null when it never ran. */
  host: string | null;
}

/** Every task of the scope (a project, an order, or everything) in project then plan order. */
export function statusTaskRows(store: Store, scope: { project?: string | undefined; order?: string | undefined }): StatusTaskRow[] {
  // One statement per kind of scope: a WHERE that can use the tasks index.
  const where =
    scope.project !== undefined ? (scope.order !== undefined ? "WHERE t.project_id = @project AND t.order_id = @order" : "WHERE t.project_id = @project") : scope.order !== undefined ? "WHERE t.order_id = @order" : "";
  const params: Record<string, string> = {};
  if (scope.project !== undefined) params.project = scope.project;
  if (scope.order !== undefined) params.order = scope.order;
  return stmt(
    store,
    `SELECT t.project_id, t.id, t.order_id, t.title, t.status, t.priority, t.attempt, t.max_attempts, t.spent_attempts, t.pid,
            t.started_at, t.finished_at, t.exit_code, t.error, t.failure_kind, t.retry_at, t.progress_done, t.progress_total, t.progress_label,
            CASE WHEN t.status = 'REVIEW' AND r.review_log_path IS NOT NULL THEN r.review_log_path ELSE r.log_path END AS log_path,
            r.denials, r.host
       FROM tasks t
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      ${where}
      ORDER BY t.project_id, t.seq`,
  ).all(params) as StatusTaskRow[];
}

/** Whether the order is paused (`aipm pause`). */
export function orderPaused(store: Store, project: string, order: string): boolean {
  return Boolean(stmt(store, "SELECT paused FROM orders WHERE project_id = ? AND id = ?").pluck().get(project, order));
}

export interface HeldLockRow {
  path: string;
  task_id: string;
  project_id: string;
  acquired_at: number;
  /** The host of the holder's current attempt. */
  host: string | null;
}

/** The locks held now (of one project, or all), oldest first. */
export function heldLocks(store: Store, project?: string): HeldLockRow[] {
  return stmt(
    store,
    `SELECT l.path, l.task_id, l.project_id, l.acquired_at, r.host FROM locks l
       LEFT JOIN tasks t ON t.project_id = l.project_id AND t.id = l.task_id
       LEFT JOIN runs r ON r.project_id = l.project_id AND r.task_id = l.task_id AND r.attempt = t.attempt
      WHERE (CAST(@project AS TEXT) IS NULL OR l.project_id = @project)
      ORDER BY l.project_id, l.acquired_at, l.task_id, l.path`,
  ).all({ project: project ?? null }) as HeldLockRow[];
}
