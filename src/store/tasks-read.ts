/**
 * Table `tasks` (with `task_files`), read: finding a task, its status and
 * target files, an order's tasks and counts. Changes of status are
 * ./transitions.ts; what defines a task is ./task-definitions.ts; the
 * scheduler's whole-project reads are ./read-project.ts.
 */
import type { Store } from "./open.js";
import type { TaskStatus } from "./schema.js";
import { stmt } from "./statements.js";
import { ATTEMPT_ROOT_SQL } from "./project-roots.js";

export interface TaskRef {
  project: string;
  order: string;
  task: string;
  status: TaskStatus;
  attempt: number;
}

/** The tasks with this id, in one project or in every project (ordered by project). */
export function tasksWithId(store: Store, task: string, project?: string): TaskRef[] {
  return stmt(
    store,
    `SELECT project_id AS project, order_id AS "order", id AS task, status, attempt FROM tasks
      WHERE id = @task AND (CAST(@project AS TEXT) IS NULL OR project_id = @project) ORDER BY project_id`,
  ).all({ task, project: project ?? null }) as TaskRef[];
}

/** The projects that have a task with this id. */
export function projectsWithTask(store: Store, task: string): string[] {
  return stmt(store, "SELECT project_id FROM tasks WHERE id = ?").pluck().all(task) as string[];
}

export function taskExists(store: Store, project: string, task: string): boolean {
  return stmt(store, "SELECT 1 FROM tasks WHERE project_id = ? AND id = ?").get(project, task) !== undefined;
}

/** The task's status, undefined when there is no such task. */
export function taskStatus(store: Store, project: string, task: string): TaskStatus | undefined {
  return stmt(store, "SELECT status FROM tasks WHERE project_id = ? AND id = ?").pluck().get(project, task) as TaskStatus | undefined;
}

export interface TaskOutcome {
  status: TaskStatus;
  retry_at: number | null;
  attempt: number;
  exit_code: number | null;
  error: string | null;
  failure_kind: string | null;
}

/** Where a task stands and how its last attempt ended. */
export function taskOutcome(store: Store, project: string, task: string): TaskOutcome | undefined {
  return stmt(store, "SELECT status, retry_at, attempt, exit_code, error, failure_kind FROM tasks WHERE project_id = ? AND id = ?").get(project, task) as
    | TaskOutcome
    | undefined;
}

/** The task's target files, in the plan's order. */
export function targetFiles(store: Store, project: string, task: string): string[] {
  return stmt(store, "SELECT path FROM task_files WHERE project_id = ? AND task_id = ? ORDER BY position").pluck().all(project, task) as string[];
}

/** Every target file entry of the project's tasks, each once (git sync: which leftovers it may discard). */
export function projectTargetFiles(store: Store, project: string): string[] {
  return stmt(store, "SELECT DISTINCT path FROM task_files WHERE project_id = ? ORDER BY path").pluck().all(project) as string[];
}

export interface TaskToExplain {
  id: string;
  order_id: string;
  status: string;
  attempt: number;
  max_attempts: number;
  spent_attempts: number;
  pid: number | null;
  started_at: number | null;
  error: string | null;
  failure_kind: string | null;
  retry_at: number | null;
  /** The current attempt's log (its review's, while reviewed). */
  log_path: string | null;
}

export function taskToExplain(store: Store, project: string, task: string): TaskToExplain | undefined {
  return stmt(
    store,
    `SELECT t.id, t.order_id, t.status, t.attempt, t.max_attempts, t.spent_attempts, t.pid, t.started_at, t.error, t.failure_kind, t.retry_at,
              CASE WHEN t.status = 'REVIEW' AND r.review_log_path IS NOT NULL THEN r.review_log_path ELSE r.log_path END AS log_path
         FROM tasks t LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
        WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as TaskToExplain | undefined;
}

export interface OrderTaskEnd {
  id: string;
  status: TaskStatus;
  error: string | null;
  failure_kind: string | null;
  review_feedback: string | null;
  attempt: number;
  /** Attempts counted against max_attempts (given-back ones are not). */
  spent_attempts: number;
  max_attempts: number;
  /** The current attempt's log. */
  log_path: string | null;
  /** The current attempt's host. */
  host: string | null;
}

/**
 * When the order's work ran: its first attempt's start and its last task's
 * end (epoch ms; null when nothing started / ended), and whether a task is
 * still running.
 */
export function orderSpan(store: Store, project: string, order: string): { first_start: number | null; last_end: number | null; running: number } {
  return stmt(
    store,
    `SELECT (SELECT MIN(r.started_at) FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
              WHERE t.project_id = @p AND t.order_id = @o) AS first_start,
            (SELECT MAX(t.finished_at) FROM tasks t WHERE t.project_id = @p AND t.order_id = @o) AS last_end,
            (SELECT COUNT(*) FROM tasks t WHERE t.project_id = @p AND t.order_id = @o AND t.status IN ('IN_PROGRESS', 'REVIEW')) AS running`,
  ).get({ p: project, o: order }) as { first_start: number | null; last_end: number | null; running: number };
}

/** Every task of the order with how it stands, in launch order. */
export function orderTaskEnds(store: Store, project: string, order: string): OrderTaskEnd[] {
  return stmt(
    store,
    `SELECT t.id, t.status, t.error, t.failure_kind, t.review_feedback, t.attempt, t.spent_attempts, t.max_attempts, r.log_path, r.host FROM tasks t
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.project_id = ? AND t.order_id = ? ORDER BY t.seq`,
  ).all(project, order) as OrderTaskEnd[];
}

export interface OrderTaskState {
  id: string;
  order_id: string;
  status: TaskStatus;
  failure_kind: string | null;
  attempt: number;
}

/** Every task of the order: status, failure kind and attempt, in launch order. */
export function orderTaskStates(store: Store, project: string, order: string): OrderTaskState[] {
  return stmt(store, "SELECT id, order_id, status, failure_kind, attempt FROM tasks WHERE project_id = ? AND order_id = ? ORDER BY seq").all(
    project,
    order,
  ) as OrderTaskState[];
}

/** Tasks of the order IN_PROGRESS or in REVIEW. */
export function countRunningInOrder(store: Store, project: string, order: string): number {
  return stmt(store, "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND order_id = ? AND status IN ('IN_PROGRESS', 'REVIEW')")
    .pluck()
    .get(project, order) as number;
}

/** Tasks of the project IN_PROGRESS or in REVIEW. */
export function countRunningInProject(store: Store, project: string): number {
  return stmt(store, "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND status IN ('IN_PROGRESS', 'REVIEW')").pluck().get(project) as number;
}

/** QUEUED tasks of the order. */
export function countQueuedInOrder(store: Store, project: string, order: string): number {
  return stmt(store, "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND order_id = ? AND status = 'QUEUED'").pluck().get(project, order) as number;
}

/** The order's tasks, and how many of them are in a final status. */
export function orderProgress(store: Store, project: string, order: string): { total: number; done: number } {
  const row = stmt(
    store,
    "SELECT COUNT(*) AS total, SUM(CASE WHEN status IN ('DONE', 'FAILED', 'CANCELLED', 'SKIPPED') THEN 1 ELSE 0 END) AS done FROM tasks WHERE project_id = ? AND order_id = ?",
  ).get(project, order) as { total: number; done: number | null };
  return { total: row.total, done: row.done ?? 0 };
}

/** The task's place among the QUEUED tasks of its order (1: next), counting itself. */
export function queuePosition(store: Store, project: string, order: string, task: string): number {
  return stmt(
    store,
    "SELECT COUNT(*) FROM tasks WHERE project_id = ? AND order_id = ? AND status = 'QUEUED' AND seq <= (SELECT seq FROM tasks WHERE project_id = ? AND id = ?)",
  )
    .pluck()
    .get(project, order, project, task) as number;
}

/** Tasks in a final status that ended (or last changed) before `cutoff`. */
export function endedTasksBefore(store: Store, cutoff: number): Array<{ project_id: string; id: string }> {
  return stmt(
    store,
    `SELECT project_id, id FROM tasks WHERE status IN ('DONE', 'FAILED', 'CANCELLED', 'SKIPPED') AND COALESCE(finished_at, updated_at) < ?`,
  ).all(cutoff) as Array<{ project_id: string; id: string }>;
}

/** What launching a task needs of its definition, its project and its order (`root`: the task's cwd, else the project's root). */
export interface LaunchDefinition {
  command: string | null;
  prompt: string | null;
  model: string | null;
  timeout_s: number | null;
  root: string;
  project_tools: string | null;
  order_tools: string | null;
  task_tools: string | null;
  max_turns: number | null;
  max_budget_usd: number | null;
  review_feedback: string | null;
}

export function launchDefinition(store: Store, project: string, task: string): LaunchDefinition {
  return stmt(
    store,
    `SELECT t.command, t.prompt, t.model, t.timeout_s, ${ATTEMPT_ROOT_SQL} AS root,
            p.allowed_tools AS project_tools, o.allowed_tools AS order_tools, t.allowed_tools AS task_tools,
            t.max_turns, t.max_budget_usd, t.review_feedback
       FROM tasks t JOIN projects p ON p.id = t.project_id
       LEFT JOIN orders o ON o.project_id = t.project_id AND o.id = t.order_id
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as LaunchDefinition;
}

/** The task's own stall stages (`stall_warn_s`, JSON) and stall kill; undefined when there is no such task. */
export function taskStallLimits(store: Store, project: string, task: string): { stall_warn_s: string | null; stall_kill_s: number | null } | undefined {
  return stmt(store, "SELECT stall_warn_s, stall_kill_s FROM tasks WHERE project_id = ? AND id = ?").get(project, task) as
    | { stall_warn_s: string | null; stall_kill_s: number | null }
    | undefined;
}

/** Whether the task is an agent task (it has a prompt). */
export function isAgentTask(store: Store, project: string, task: string): boolean {
  return stmt(store, "SELECT prompt IS NOT NULL FROM tasks WHERE project_id = ? AND id = ?").pluck().get(project, task) === 1;
}
