/**
 * Read side of the store for the scheduler: a project's tasks with their
 * dependencies and target files, and the locks held now. Three flat queries
 * grouped in memory: this is what detection reads on every launch, so it uses
 * prepared raw statements rather than relational queries.
 */
import type { Store } from "./open.js";
import type { Priority, TaskStatus, ProjectRow, OrderRow } from "./schema.js";
import type { DepCondition } from "./statuses.js";
import { notFound } from "../errors.js";
import { stmt } from "./statements.js";

export interface TaskNode {
  seq: number;
  id: string;
  orderId: string;
  status: TaskStatus;
  priority: Priority;
  retryAt: number | null;
  /** A prompt task (an agent worker). */
  agent: boolean;
  deps: string[];
  /** Conditions of the dependencies that are not plain ones (absent: every dependency must end DONE). */
  depOn?: Map<string, Exclude<DepCondition, "success">>;
  targetFiles: string[];
  /** Host labels it needs (`runs_on`); absent: any host. */
  runsOn?: string[];
}

export interface HeldLock {
  path: string;
  taskId: string;
  acquiredAt: number;
}

type TaskTuple = [number, string, string, TaskStatus, Priority, number | null, number, string | null];

export function loadProjectTasks(store: Store, projectId: string): Map<string, TaskNode> {
  const out = new Map<string, TaskNode>();
  const rows = stmt(store, "SELECT seq, id, order_id, status, priority, retry_at, prompt IS NOT NULL, runs_on FROM tasks WHERE project_id = ? ORDER BY seq")
    .raw()
    .all(projectId) as TaskTuple[];
  for (const [seq, id, orderId, status, priority, retryAt, agent, runsOn] of rows) {
    const node: TaskNode = { seq, id, orderId, status, priority, retryAt, agent: agent === 1, deps: [], targetFiles: [] };
    if (runsOn !== null) node.runsOn = JSON.parse(runsOn) as string[];
    out.set(id, node);
  }
  const deps = stmt(store, "SELECT task_id, dep_id, condition FROM task_deps WHERE project_id = ?").raw().all(projectId) as Array<
    [string, string, DepCondition]
  >;
  for (const [taskId, depId, condition] of deps) {
    const t = out.get(taskId);
    if (!t) continue;
    t.deps.push(depId);
    if (condition !== "success") (t.depOn ??= new Map()).set(depId, condition);
  }
  const files = stmt(store, "SELECT task_id, path FROM task_files WHERE project_id = ? ORDER BY task_id, position")
    .raw()
    .all(projectId) as Array<[string, string]>;
  for (const [taskId, path] of files) out.get(taskId)?.targetFiles.push(path);
  return out;
}

export function loadLocks(store: Store, projectId: string): HeldLock[] {
  const rows = stmt(store, "SELECT path, task_id, acquired_at FROM locks WHERE project_id = ? ORDER BY acquired_at, task_id, path")
    .raw()
    .all(projectId) as Array<[string, string, number]>;
  return rows.map(([path, taskId, acquiredAt]) => ({ path, taskId, acquiredAt }));
}

/** IN_PROGRESS and REVIEW tasks of the project: what counts against the slots. */
export function countRunning(store: Store, projectId: string): number {
  const row = stmt(store, "SELECT COUNT(*) AS n FROM tasks WHERE project_id = ? AND status IN ('IN_PROGRESS', 'REVIEW')")
    .get(projectId) as { n: number };
  return row.n;
}

export function getProject(store: Store, projectId: string): ProjectRow {
  const row = stmt(store, 'SELECT id, root, created_at AS "createdAt" FROM projects WHERE id = ?')
    .get(projectId) as ProjectRow | undefined;
  if (!row) throw notFound.project(projectId);
  return row;
}

export function getOrder(store: Store, projectId: string, orderId: string): OrderRow {
  getProject(store, projectId);
  const row = stmt(
    store,
    `SELECT project_id AS "projectId", id, title, paused, active, launch_options AS "launchOptions", created_at AS "createdAt"
       FROM orders WHERE project_id = ? AND id = ?`,
  ).get(projectId, orderId) as (Omit<OrderRow, "paused" | "active"> & { paused: number; active: number }) | undefined;
  if (!row) throw notFound.order(projectId, orderId);
  return { ...row, paused: row.paused !== 0, active: row.active !== 0 };
}
