/**
 * The dashboard's reads (src/dashboard/): the orders with their counts per
 * status, an order's dependency conditions, launch options, run times and
 * error trend, a task's log paths and attempts, and the limits and the
 * running count the machine charts draw. Read-only: nothing here writes.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface OrderSummaryRow {
  project: string;
  order: string;
  title: string;
  paused: number;
  active: number;
}

/** Every order, by project then creation. */
export function allOrders(store: Store): OrderSummaryRow[] {
  return stmt(store, 'SELECT project_id AS project, id AS "order", title, paused, active FROM orders ORDER BY project_id, created_at, id').all() as OrderSummaryRow[];
}

/** Tasks per project, order and status. */
export function statusCounts(store: Store): Array<{ project: string; order: string; status: string; n: number }> {
  return stmt(store, 'SELECT project_id AS project, order_id AS "order", status, COUNT(*) AS n FROM tasks GROUP BY project_id, order_id, status').all() as Array<{
    project: string;
    order: string;
    status: string;
    n: number;
  }>;
}

/** Dependencies of the order's tasks with a condition other than success. */
export function depConditions(store: Store, project: string, order: string): Array<{ task: string; dep: string; condition: string }> {
  return stmt(
    store,
    `SELECT d.task_id AS task, d.dep_id AS dep, d.condition FROM task_deps d JOIN tasks t ON t.project_id = d.project_id AND t.id = d.task_id
      WHERE d.project_id = ? AND t.order_id = ? AND d.condition <> 'success'`,
  ).all(project, order) as Array<{ task: string; dep: string; condition: string }>;
}

/** The order's stored launch options (JSON), or null. */
export function orderLaunchOptionsJson(store: Store, project: string, order: string): string | null {
  return (stmt(store, "SELECT launch_options FROM orders WHERE project_id = ? AND id = ?").pluck().get(project, order) as string | null | undefined) ?? null;
}

/** The launch options (JSON) of the oldest active order that has some, or null. */
export function activeLaunchOptionsJson(store: Store): string | null {
  return (
    (stmt(store, "SELECT launch_options FROM orders WHERE active = TRUE AND launch_options IS NOT NULL ORDER BY created_at LIMIT 1").pluck().get() as
      | string
      | undefined) ?? null
  );
}

/** The log of the task's latest attempt. */
export function latestLogPath(store: Store, project: string, task: string): string | null {
  return (stmt(store, "SELECT log_path FROM runs WHERE project_id = ? AND task_id = ? ORDER BY attempt DESC LIMIT 1").pluck().get(project, task) as string | undefined) ?? null;
}

/** The order's first start and the mean duration of its successful attempts (ms). */
export function orderRunTimes(store: Store, project: string, order: string): { first: number | null; avg_ms: number | null } {
  return stmt(
    store,
    `SELECT MIN(r.started_at) AS first, AVG(CASE WHEN r.outcome = 'succeeded' THEN r.finished_at - r.started_at END) AS avg_ms
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.project_id = ? AND t.order_id = ?`,
  ).get(project, order) as { first: number | null; avg_ms: number | null };
}

/** Attempts of the order that ended since `first`, per slot of `slotMs`: succeeded, failed (not killed, not a spawn failure). */
export function endedPerSlot(store: Store, project: string, order: string, first: number, slotMs: number): Array<{ slot: number; ok: number; bad: number }> {
  return stmt(
    store,
    `SELECT (r.finished_at - @first) / @slot AS slot,
            SUM(CASE WHEN r.outcome = 'succeeded' THEN 1 ELSE 0 END) AS ok,
            SUM(CASE WHEN r.outcome NOT IN ('succeeded', 'killed', 'spawn_failed', 'reviewing') THEN 1 ELSE 0 END) AS bad
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.project_id = @project AND t.order_id = @order AND r.finished_at >= @first
      GROUP BY slot`,
  ).all({ project, order, first, slot: slotMs }) as Array<{ slot: number; ok: number; bad: number }>;
}

/** The log to tail for a task: its review log while it is reviewed, else its current attempt's log. */
export function currentLogPath(store: Store, project: string, task: string): string | null {
  const r = stmt(
    store,
    `SELECT CASE WHEN t.status = 'REVIEW' AND r.review_log_path IS NOT NULL THEN r.review_log_path ELSE r.log_path END AS log
       FROM tasks t LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as { log: string | null } | undefined;
  return r?.log ?? null;
}

export interface AttemptRow {
  task: string;
  attempt: number;
  started_at: number;
  review_started_at: number | null;
  finished_at: number | null;
  outcome: string;
  exit_code: number | null;
  error: string | null;
  cost: number | null;
  created_at: number;
}

/** Every attempt of the order's tasks, oldest first, with its task's creation time. */
export function orderAttemptRows(store: Store, project: string, order: string): AttemptRow[] {
  return stmt(
    store,
    `SELECT r.task_id AS task, r.attempt, r.started_at, r.review_started_at, r.finished_at, r.outcome, r.exit_code, r.error,
            CASE WHEN r.cost_usd IS NULL AND r.review_cost_usd IS NULL THEN NULL ELSE COALESCE(r.cost_usd, 0) + COALESCE(r.review_cost_usd, 0) END AS cost,
            t.created_at
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.project_id = ? AND t.order_id = ?
      ORDER BY r.started_at, r.id`,
  ).all(project, order) as AttemptRow[];
}

/** Every dependency edge of the project: [task, dep]. */
export function projectDepEdges(store: Store, project: string): Array<[string, string]> {
  return stmt(store, "SELECT task_id, dep_id FROM task_deps WHERE project_id = ?").raw().all(project) as Array<[string, string]>;
}

/** A task's order and title, or undefined. */
export function taskOrderAndTitle(store: Store, project: string, task: string): { order_id: string; title: string } | undefined {
  return stmt(store, "SELECT order_id, title FROM tasks WHERE project_id = ? AND id = ?").get(project, task) as { order_id: string; title: string } | undefined;
}

/** Tasks running now (IN_PROGRESS or REVIEW), every project. */
export function runningCount(store: Store): number {
  return stmt(store, "SELECT COUNT(*) FROM tasks WHERE status IN ('IN_PROGRESS', 'REVIEW')").pluck().get() as number;
}

/** Every project's root folder. */
export function projectRoots(store: Store): string[] {
  return stmt(store, "SELECT root FROM projects").pluck().all() as string[];
}

/** The connection is still open. */
export function storeIsOpen(store: Store): boolean {
  return store.conn.open;
}
