/**
 * What the dashboard shows, read from the store: every project and order
 * with its counts (the sidebar), and one order in full — its tasks laid out
 * by dependency level, the running workers, the locks, the failures with the
 * end of their logs, and the KPIs. The JSON API serves these as they are; the
 * page renders them (src/dashboard/render-page.ts).
 */
import type { Store } from "../store/open.js";
import {
  allOrders,
  currentLogPath,
  depConditions,
  endedPerSlot,
  latestLogPath,
  orderAttemptRows,
  orderLaunchOptionsJson,
  orderRunTimes,
  projectDepEdges,
  statusCounts,
  taskOrderAndTitle,
} from "../store/dashboard-reads.js";
import { getOrder } from "../store/read-project.js";
import { getStatus, type TaskStatusJson, type WorkerJson, type LockJson } from "../report/status.js";
import { readTail } from "../util/tail.js";
import type { HostJson } from "../report/hosts-view.js";
import { dependencyLevels } from "../detect/dep-graph.js";
import { LAUNCH_DEFAULTS } from "../config/launch-options.js";
import { ReadableAgentOutput } from "../agent/readable-output.js";
import { explainTask, type Explanation } from "../report/explain.js";

/** Log text for people: an agent's stream-json as one line per event. */
function readable(text: string): string {
  if (!text.includes('"type":')) return text;
  const r = new ReadableAgentOutput();
  return r.push(text.endsWith("\n") ? text : `${text}\n`) + r.flush();
}

export interface OrderSummaryJson {
  project: string;
  order: string;
  title: string;
  paused: boolean;
  active: boolean;
  counts: Record<string, number>;
  total: number;
}

export interface OverviewJson {
  projects: Array<{ project: string; orders: OrderSummaryJson[] }>;
}

export function overview(store: Store): OverviewJson {
  const orders = allOrders(store);
  const counts = statusCounts(store);
  const byOrder = new Map<string, Record<string, number>>();
  for (const c of counts) {
    const key = `${c.project}\0${c.order}`;
    const m = byOrder.get(key) ?? {};
    m[c.status] = c.n;
    byOrder.set(key, m);
  }
  const projects = new Map<string, OrderSummaryJson[]>();
  for (const o of orders) {
    const c = byOrder.get(`${o.project}\0${o.order}`) ?? {};
    const list = projects.get(o.project) ?? [];
    list.push({
      project: o.project,
      order: o.order,
      title: o.title,
      paused: o.paused !== 0,
      active: o.active !== 0,
      counts: c,
      total: Object.values(c).reduce((a, b) => a + b, 0),
    });
    projects.set(o.project, list);
  }
  return { projects: [...projects].map(([project, list]) => ({ project, orders: list })) };
}

export interface DashboardTask extends TaskStatusJson {
  /** 0 for a task without dependencies in the order, else 1 + the highest level among them. */
  level: number;
  elapsed_s: number | null;
  /** Dependencies with a condition other than success (`on: failure` / `on: always`). */
  dep_conditions: Record<string, string>;
}

/** One attempt of a task, for the timeline and the run history. */
export interface AttemptJson {
  task: string;
  attempt: number;
  /** When it became ready to run (its previous attempt's end, its dependencies' end, or its creation), epoch ms. */
  ready_at: number;
  started_at: number;
  /** When its review began (REVIEW), epoch ms. */
  review_at: number | null;
  finished_at: number | null;
  outcome: string;
  exit_code: number | null;
  error: string | null;
  cost_usd: number | null;
}

export interface FailureJson {
  task: string;
  error: string | null;
  failure_kind: string | null;
  attempts: number;
  log: string | null;
  log_tail: string;
}

export interface KpisJson {
  done: number;
  failed: number;
  /** DONE / (DONE + FAILED), null before anything finished. */
  success_rate: number | null;
  /** Tasks finished per minute since the order's first start. */
  throughput_per_min: number | null;
  avg_duration_s: number | null;
  cost_usd: number | null;
  num_turns: number | null;
}

/** Attempts that ended in one 5-minute slot of the last hour: succeeded, failed (any failure class). */
export interface TrendPoint {
  t: number;
  succeeded: number;
  failed: number;
}

export interface OrderViewJson extends Omit<OrderSummaryJson, "total"> {
  /** The order's worker limit (its stored launch options, or the default). */
  max_workers: number;
  tasks: DashboardTask[];
  /** The last hour in 12 slots of 5 minutes, oldest first: the error trend. */
  trend: TrendPoint[];
  workers: WorkerJson[];
  locks: LockJson[];
  /** Every host this database has seen, with its attempts of this project (the page shows them when there are several). */
  hosts: HostJson[];
  failures: FailureJson[];
  kpis: KpisJson;
  generated_at: string;
}

export function orderView(store: Store, project: string, order: string): OrderViewJson {
  const o = getOrder(store, project, order);
  const st = getStatus(store, { project, order });
  const now = store.now();
  const lv = dependencyLevels(st.tasks.map((t) => ({ id: t.task, deps: t.deps })));
  const conds = new Map<string, Record<string, string>>();
  for (const c of depConditions(store, project, order)) {
    conds.set(c.task, { ...(conds.get(c.task) ?? {}), [c.dep]: c.condition });
  }
  const stored = orderLaunchOptionsJson(store, project, order);
  const maxWorkers = (stored ? (JSON.parse(stored) as { maxWorkers?: number }).maxWorkers : undefined) ?? LAUNCH_DEFAULTS.maxWorkers;
  const none: Record<string, string> = {};
  // The status report's task objects are this call's own: completed in place (no copy of 10,000 objects).
  const tasks = st.tasks as DashboardTask[];
  for (const t of tasks) {
    const started = t.started_at ? Date.parse(t.started_at) : null;
    const finished = t.finished_at ? Date.parse(t.finished_at) : null;
    t.level = lv.get(t.task) ?? 0;
    t.elapsed_s = started === null ? null : Math.round(((finished ?? now) - started) / 100) / 10;
    t.dep_conditions = conds.get(t.task) ?? none;
  }
  const failures: FailureJson[] = st.tasks
    .filter((t) => t.status === "FAILED")
    .map((t) => {
      const log = latestLogPath(store, project, t.task);
      return {
        task: t.task,
        error: t.error,
        failure_kind: t.failure_kind,
        attempts: t.attempt,
        log,
        log_tail: log ? readable(readTail(log, 4096)).trimEnd().split("\n").slice(-20).join("\n") : "",
      };
    });
  const k = orderRunTimes(store, project, order);
  const done = st.counts.DONE;
  const failed = st.counts.FAILED;
  const totals = st.orders.find((x) => x.order === order);
  const minutes = k.first !== null ? (now - k.first) / 60_000 : null;
  return {
    project,
    order,
    title: o.title,
    paused: o.paused,
    active: o.active,
    max_workers: maxWorkers,
    counts: st.counts,
    tasks,
    workers: st.workers,
    locks: st.locks.filter((l) => lv.has(l.task)),
    hosts: st.hosts,
    failures,
    trend: trend(store, project, order, now),
    kpis: {
      done,
      failed,
      success_rate: done + failed > 0 ? Math.round((done / (done + failed)) * 1000) / 10 : null,
      throughput_per_min: minutes !== null && minutes > 0 ? Math.round(((done + failed) / minutes) * 10) / 10 : null,
      avg_duration_s: k.avg_ms !== null ? Math.round(k.avg_ms / 100) / 10 : null,
      cost_usd: totals?.cost_usd ?? null,
      num_turns: totals?.num_turns ?? null,
    },
    generated_at: new Date(now).toISOString(),
  };
}

const SLOT_MS = 5 * 60_000;

function trend(store: Store, project: string, order: string, now: number): TrendPoint[] {
  const first = Math.floor((now - 3600_000) / SLOT_MS) * SLOT_MS + SLOT_MS;
  const rows = endedPerSlot(store, project, order, first, SLOT_MS);
  const out: TrendPoint[] = Array.from({ length: 12 }, (_, i) => ({ t: first + i * SLOT_MS, succeeded: 0, failed: 0 }));
  for (const r of rows) {
    const p = out[Math.min(11, Math.max(0, Math.floor(r.slot)))];
    if (p) {
      p.succeeded += r.ok;
      p.failed += r.bad;
    }
  }
  return out;
}

/** The end of a task's latest log (or review log while it is reviewed), for the live tail. */
export function taskLogTail(store: Store, project: string, task: string, bytes = 8192): { task: string; log: string | null; text: string } {
  const log = currentLogPath(store, project, task);
  return { task, log, text: log ? readable(readTail(log, bytes)) : "" };
}

/**
 * Every attempt of an order's tasks (or of one task), oldest first, each with
 * the moment it became ready: the end of the task's previous attempt, else the
 * latest end of its dependencies' attempts before it started, else the task's
 * creation. `started_at - ready_at` is how long it queued.
 */
export function orderAttempts(store: Store, project: string, order: string, task?: string): AttemptJson[] {
  const rows = orderAttemptRows(store, project, order);
  const deps = new Map<string, string[]>();
  for (const d of projectDepEdges(store, project)) {
    deps.set(d[0], [...(deps.get(d[0]) ?? []), d[1]]);
  }
  const ends = new Map<string, number[]>();
  for (const r of rows) if (r.finished_at !== null) ends.set(r.task, [...(ends.get(r.task) ?? []), r.finished_at]);
  const prevEnd = new Map<string, number>();
  const out: AttemptJson[] = [];
  for (const r of rows) {
    let ready = prevEnd.get(r.task) ?? null;
    if (ready === null) {
      ready = r.created_at;
      for (const d of deps.get(r.task) ?? []) for (const e of ends.get(d) ?? []) if (e <= r.started_at && e > ready) ready = e;
    }
    if (r.finished_at !== null) prevEnd.set(r.task, r.finished_at);
    if (task !== undefined && r.task !== task) continue;
    out.push({
      task: r.task,
      attempt: r.attempt,
      ready_at: Math.min(ready, r.started_at),
      started_at: r.started_at,
      review_at: r.review_started_at,
      finished_at: r.finished_at,
      outcome: r.outcome,
      exit_code: r.exit_code,
      error: r.error,
      cost_usd: r.cost === null ? null : Math.round(r.cost * 1e4) / 1e4,
    });
  }
  return out;
}

export interface TaskDetailJson {
  project: string;
  order: string;
  task: string;
  title: string;
  status: string;
  explain: Explanation;
  attempts: AttemptJson[];
}

/** One task: why it is where it is (the `explain` chain) and its run history. */
export function taskDetail(store: Store, project: string, task: string): TaskDetailJson {
  const e = explainTask(store, { task, project });
  const row = taskOrderAndTitle(store, project, task)!;
  const { project: _p, ...explain } = e;
  return { project, order: row.order_id, task, title: row.title, status: e.status, explain, attempts: orderAttempts(store, project, row.order_id, task) };
}
