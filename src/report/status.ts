/**
 * `aipm status` and `aipm locks`: read-only views of the store, shaped as the
 * contract's JSON (snake_case, ISO 8601 times). The human renderings are in
 * src/cli/render/.
 */
import { hostsView, type HostJson } from "./hosts-view.js";
import type { ThisHost } from "../config/host.js";
import type { Store } from "../store/open.js";
import type { TaskStatus } from "../store/schema.js";
import { TASK_STATUSES } from "../store/statuses.js";
import { getOrder, getProject, loadProjectTasks } from "../store/read-project.js";
import { findBlocked, type SkipReason } from "../detect/select.js";
import { waitingReasons } from "./waiting.js";
import { isoOrNull } from "../util/time.js";
import { heldLocks, orderPaused, statusTaskRows } from "../store/status-reads.js";
import { agentHolds } from "../store/projects.js";
import { readLastLine } from "../util/tail.js";
import { NO_COST, taskCosts, totals, type TaskCost } from "./task-costs.js";

export interface TaskStatusJson {
  task: string;
  project: string;
  order: string;
  title: string;
  status: TaskStatus;
  blocked: boolean;
  failed_dependency: string | null;
  priority: string;
  attempt: number;
  max_attempts: number;
  /** Attempts counted against max_attempts (a free retry or a preemption gives its attempt back), so `attempt` may exceed max_attempts. */
  spent_attempts: number;
  pid: number | null;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error: string | null;
  /** How the latest attempt failed: exit_code, timeout, stalled, rate_limit, max_turns, review_rejected, scope... */
  failure_kind: string | null;
  /** `label`: its current item, when the worker said (`aipm progress 3/10 "file.png"`). */
  progress: { done: number; total: number; label?: string } | null;
  target_files: string[];
  deps: string[];
  /** Agent tasks: summed over attempts; null for tasks no agent reported on. */
  cost_usd: number | null;
  num_turns: number | null;
  /** Files its attempts changed outside its target_files (git projects). */
  out_of_scope: string[];
  /** Attempts that continued the previous attempt's Claude session rather than starting afresh. */
  resumed_attempts: number[];
  /** Tool calls the current attempt's agent was refused (0 for commands). */
  permission_denials: number;
  /** A QUEUED task: why it is not running (the skip reason of `parallel-launch --json`), or null when it would launch now. */
  waiting?: SkipReason | null;
  /** QUEUED after a failure or a rate limit: not launched before this time. */
  retry_at: string | null;
  /** The host of its current or last attempt (AIPM_HOST of the aipm that claimed it); null when it never ran. */
  host: string | null;
}

export interface OrderTotalsJson {
  project: string;
  order: string;
  /** Paused (`aipm pause`): it launches nothing new. */
  paused: boolean;
  tasks: number;
  cost_usd: number | null;
  num_turns: number | null;
}

export interface WorkerJson {
  task: string;
  project: string;
  order: string;
  status: TaskStatus;
  pid: number | null;
  attempt: number;
  elapsed_s: number | null;
  progress: TaskStatusJson["progress"];
  /** The last line the task printed (not an AIPM_PROGRESS line); for an agent, what it did last. */
  last_output: string | null;
  log: string | null;
}

export interface LockJson {
  file: string;
  task: string;
  project: string;
  acquired_at: string;
  /** The host running the task that holds it. */
  host: string | null;
}

export interface StatusReport {
  project: string | null;
  order: string | null;
  counts: Record<TaskStatus | "BLOCKED", number>;
  tasks: TaskStatusJson[];
  /** Per order of the scope: cost and turns of its agent tasks. */
  orders: OrderTotalsJson[];
  workers: WorkerJson[];
  locks: LockJson[];
  /** Projects whose agent tasks a usage limit holds: until when and why. */
  holds: Array<{ project: string; until: string; reason: string | null }>;
  /** Every host this database has seen: labels, last heartbeat, alive, its running attempts (of the scope's project), CPU/memory. */
  hosts: HostJson[];
}

export interface StatusScope {
  project?: string | undefined;
  order?: string | undefined;
  /** This host, for the waiting reason `host` (default: from process.env). */
  host?: ThisHost | undefined;
  /** AIPM_HOST_LEASE_S: a host silent longer is not alive (default: from process.env). */
  leaseS?: number | undefined;
}

export function emptyCounts(): Record<TaskStatus | "BLOCKED", number> {
  const c = { BLOCKED: 0 } as Record<TaskStatus | "BLOCKED", number>;
  for (const s of TASK_STATUSES) c[s] = 0;
  return c;
}

export function getStatus(store: Store, scope: StatusScope = {}): StatusReport {
  if (scope.order !== undefined && scope.project !== undefined) getOrder(store, scope.project, scope.order);
  else if (scope.project !== undefined) getProject(store, scope.project);

  const rows = statusTaskRows(store, scope);

  const projectIds = [...new Set(rows.map((r) => r.project_id))];
  const graphs = new Map(projectIds.map((p) => [p, loadProjectTasks(store, p)]));
  const blockedByProject = new Map(projectIds.map((p) => [p, findBlocked(graphs.get(p)!)]));
  const costs = new Map(projectIds.map((p) => [p, taskCosts(store, p, scope.order)]));
  const orderCosts = new Map<string, { project: string; order: string; tasks: number; costs: TaskCost[] }>();

  // Why each QUEUED task waits: one detector run per order that has some.
  const reasons = new Map<string, Map<string, SkipReason>>();
  const waitingOf = (project: string, order: string, task: string): SkipReason | null => {
    const key = `${project}\0${order}`;
    let m = reasons.get(key);
    if (!m) reasons.set(key, (m = waitingReasons(store, project, order, graphs.get(project)!, scope.host)));
    return m.get(task) ?? null;
  };
  const now = store.now();
  const counts = emptyCounts();
  const tasks: TaskStatusJson[] = [];
  const workers: WorkerJson[] = [];
  for (const r of rows) {
    const node = graphs.get(r.project_id)!.get(r.id)!;
    const failedDep = r.status === "QUEUED" ? (blockedByProject.get(r.project_id)!.get(r.id) ?? null) : null;
    const cost = costs.get(r.project_id)!.get(r.id) ?? NO_COST;
    const key = `${r.project_id}\0${r.order_id}`;
    let o = orderCosts.get(key);
    if (!o) orderCosts.set(key, (o = { project: r.project_id, order: r.order_id, tasks: 0, costs: [] }));
    o.tasks++;
    o.costs.push(cost);
    counts[r.status]++;
    if (failedDep) counts.BLOCKED++;
    tasks.push({
      task: r.id,
      project: r.project_id,
      order: r.order_id,
      title: r.title,
      status: r.status,
      blocked: failedDep !== null,
      failed_dependency: failedDep,
      priority: r.priority,
      attempt: r.attempt,
      max_attempts: r.max_attempts,
      spent_attempts: r.spent_attempts,
      pid: r.pid,
      started_at: isoOrNull(r.started_at),
      finished_at: isoOrNull(r.finished_at),
      exit_code: r.exit_code,
      error: r.error,
      failure_kind: r.failure_kind,
      progress:
        r.progress_total != null
          ? { done: r.progress_done ?? 0, total: r.progress_total, ...(r.progress_label ? { label: r.progress_label } : {}) }
          : null,
      target_files: node.targetFiles,
      deps: node.deps,
      cost_usd: cost.cost_usd,
      num_turns: cost.num_turns,
      out_of_scope: cost.out_of_scope,
      resumed_attempts: cost.resumed_attempts,
      permission_denials: countDenials(r.denials),
      retry_at: r.status === "QUEUED" ? isoOrNull(r.retry_at) : null,
      host: r.host,
      ...(r.status === "QUEUED" ? { waiting: waitingOf(r.project_id, r.order_id, r.id) } : {}),
    });
    if (r.status === "IN_PROGRESS" || r.status === "REVIEW") {
      workers.push({
        task: r.id,
        project: r.project_id,
        order: r.order_id,
        status: r.status,
        pid: r.pid,
        attempt: r.attempt,
        elapsed_s: r.started_at != null ? Math.round((now - r.started_at) / 100) / 10 : null,
        progress: tasks[tasks.length - 1]!.progress,
        last_output: r.log_path ? readLastLine(r.log_path) : null,
        log: r.log_path,
      });
    }
  }
  return {
    project: scope.project ?? null,
    order: scope.order ?? null,
    counts,
    tasks,
    orders: [...orderCosts.values()].map((o) => ({
      project: o.project,
      order: o.order,
      paused: orderPaused(store, o.project, o.order),
      tasks: o.tasks,
      ...totals(o.costs),
    })),
    workers,
    locks: listLocks(store, scope.project),
    holds: agentHolds(store, now, scope.project).map((h) => ({ project: h.project, until: new Date(h.until).toISOString(), reason: h.reason })),
    hosts: hostsView(store, { project: scope.project, now, ...(scope.leaseS !== undefined ? { leaseS: scope.leaseS } : {}) }),
  };
}

function countDenials(json: string | null): number {
  if (!json) return 0;
  try {
    const list = JSON.parse(json) as unknown;
    return Array.isArray(list) ? list.length : 0;
  } catch {
    return 0;
  }
}

export function listLocks(store: Store, project?: string): LockJson[] {
  if (project !== undefined) getProject(store, project);
  const rows = heldLocks(store, project);
  return rows.map((l) => ({ file: l.path, task: l.task_id, project: l.project_id, acquired_at: new Date(l.acquired_at).toISOString(), host: l.host }));
}
