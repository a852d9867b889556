/**
 * A supervisor's in-memory picture of one project: tasks, held locks, active
 * orders and each order's candidates in launch order. It is updated by the
 * supervisor's own transitions and reloaded whole when another connection
 * has committed (SQLite's data_version changes, ../store/data-version.ts), so a pass after a
 * task ends costs map lookups, not a re-read of the project.
 *
 * The view only decides what to *try*: every launch is still a claim
 * transaction that re-checks everything in the database.
 */
import type { Store } from "../store/open.js";
import type { TaskStatus } from "../store/schema.js";
import { loadLocks, loadProjectTasks, type HeldLock, type TaskNode } from "../store/read-project.js";
import { dataVersion } from "../store/data-version.js";
import { activeOrders } from "../store/orders.js";
import { byLaunchOrder, findBlocked, orderCandidates } from "../detect/select.js";
import { LAUNCH_DEFAULTS, type LaunchOptions } from "../config/launch-options.js";

export interface ActiveOrder {
  id: string;
  paused: boolean;
  /** The plan's `preempt: true` (a launch's `--preempt` is in `options`). */
  preempt: boolean;
  options: LaunchOptions;
}

export class ProjectView {
  tasks = new Map<string, TaskNode>();
  locks: HeldLock[] = [];
  orders: ActiveOrder[] = [];
  blocked = new Map<string, string>();
  /** Some task of the project is an agent task (usage-limit holds and budgets then apply). */
  hasAgents = false;
  private candidates = new Map<string, TaskNode[]>();
  private dataVersion = -1;

  constructor(
    private readonly store: Store,
    readonly project: string,
  ) {
    this.reload();
  }

  /** Reloads when another connection has committed since the last look. */
  refreshIfChanged(): boolean {
    const v = dataVersion(this.store);
    if (v === this.dataVersion) return false;
    this.reload(v);
    return true;
  }

  /** `version`: the data version just read, when the caller has it (on PostgreSQL reading it is a round trip). */
  reload(version = dataVersion(this.store)): void {
    this.dataVersion = version;
    this.tasks = loadProjectTasks(this.store, this.project);
    this.locks = loadLocks(this.store, this.project);
    this.blocked = findBlocked(this.tasks);
    this.hasAgents = false;
    for (const t of this.tasks.values()) if (t.agent) this.hasAgents = true;
    this.candidates.clear();
    this.orders = activeOrders(this.store, this.project).map((r) => ({
      id: r.id,
      paused: r.paused !== 0,
      preempt: r.preempt !== 0,
      options: r.launch_options ? { ...LAUNCH_DEFAULTS, ...(JSON.parse(r.launch_options) as Partial<LaunchOptions>) } : LAUNCH_DEFAULTS,
    }));
  }

  /** The order's QUEUED tasks in launch order (entries that moved on are skipped by the detector). */
  candidatesOf(orderId: string): TaskNode[] {
    let list = this.candidates.get(orderId);
    if (!list) {
      list = orderCandidates(this.tasks, orderId);
      this.candidates.set(orderId, list);
    } else {
      let stale = 0;
      for (const t of list) if (t.status !== "QUEUED") stale++;
      if (stale > 32 && stale * 2 > list.length) {
        list = list.filter((t) => t.status === "QUEUED");
        this.candidates.set(orderId, list);
      }
    }
    return list;
  }

  running(): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.status === "IN_PROGRESS" || t.status === "REVIEW") n++;
    return n;
  }

  markClaimed(taskId: string, files: readonly string[], now: number): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    t.status = "IN_PROGRESS";
    t.retryAt = null;
    for (const path of files) this.locks.push({ path, taskId, acquiredAt: now });
  }

  markFinished(taskId: string, status: TaskStatus, retryAt: number | null): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    t.status = status;
    t.retryAt = retryAt;
    if (status !== "REVIEW" && status !== "IN_PROGRESS") this.locks = this.locks.filter((l) => l.taskId !== taskId);
    if (status === "FAILED" || status === "CANCELLED") this.blocked = findBlocked(this.tasks);
    if (status === "QUEUED") {
      const list = this.candidates.get(t.orderId);
      if (list && !list.includes(t)) {
        list.push(t);
        list.sort(byLaunchOrder);
      }
    }
  }
}
