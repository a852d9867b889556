/**
 * `aipm wait` as a library call: supervise (leading when the lease is free,
 * following otherwise) until no task of the order is QUEUED and unblocked,
 * IN_PROGRESS or REVIEW, or until the timeout; then hand the project to a
 * detached supervisor if anything else of it still runs, and return one
 * compact summary.
 */
import { syncWanted } from "../git-sync/root-need.js";
import { thisHost } from "../config/host.js";
import type { Store } from "../store/open.js";
import { countQueuedInOrder, countRunningInOrder, countRunningInProject, orderSpan, orderTaskEnds, orderTaskStates, type OrderTaskState } from "../store/tasks-read.js";
import { countRunnableOrders } from "../store/orders.js";
import { markOrdersReported } from "../store/events.js";
import { TASK_STATUSES, type TaskStatus } from "../store/statuses.js";
import { getOrder, loadProjectTasks } from "../store/read-project.js";
import { findBlocked } from "../detect/select.js";
import type { RuntimeOptions } from "../config/runtime-options.js";
import type { ResourceMonitor } from "../resources/monitor.js";
import type { Supervisor, TaskEvent } from "./supervisor.js";
import type { LaunchedTask } from "./launch-task.js";
import { ensureSupervisor } from "./ensure-supervisor.js";
import { NO_COST, taskCosts, totals } from "../report/task-costs.js";
import { nextStep, oneLine } from "../report/next-step.js";

export interface WaitSummary {
  project: string;
  order: string;
  /** Every task of the order is DONE or SKIPPED (a condition on its dependencies kept it out). */
  done: boolean;
  timed_out: boolean;
  counts: Record<TaskStatus, number>;
  blocked: number;
  failed: FailedTask[];
  /** The order's agent tasks, summed over every attempt (null: no agent reported a cost). */
  cost_usd: number | null;
  num_turns: number | null;
  /** Only present when some task edited files outside its target_files. */
  out_of_scope?: Array<{ task: string; files: string[] }>;
  /** How long this wait itself lasted. */
  elapsed_s: number;
  /** How long the order's work has taken: its first attempt's start to its last task's end (to now while a task runs); null when nothing ran. */
  order_elapsed_s: number | null;
}

export interface FailedTask {
  task: string;
  error: string | null;
  /** exit_code, signal, crashed, timeout, stalled, max_turns, budget, api_error, permission_denied, agent_error, scope, review_rejected, review_error... */
  failure_kind: string | null;
  log: string | null;
  attempts: number;
  /** The host of its last attempt. */
  host: string | null;
  /** Attempts counted against max_attempts, only when it differs from `attempts` (free retries and preemptions are given back). */
  counted_attempts?: number;
  /** Agent tasks only (absent when no agent reported). */
  cost_usd?: number;
  num_turns?: number;
  /** The last review's feedback, when a review rejected the last attempt (one line). */
  review_feedback?: string;
  /** What a PM would do next, as a command (see src/report/next-step.ts). */
  next: string;
}

export function orderSummary(store: Store, project: string, order: string, since: number, timedOut: boolean): WaitSummary {
  const rows = orderTaskEnds(store, project, order);
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const r of rows) counts[r.status]++;
  const blocked = counts.QUEUED > 0 ? countBlocked(store, project, order) : 0;
  const costs = taskCosts(store, project, order);
  const scope = [...costs].filter(([, c]) => c.out_of_scope.length > 0).map(([task, c]) => ({ task, files: c.out_of_scope }));
  return {
    project,
    order,
    done: rows.length > 0 && (counts.DONE ?? 0) + (counts.SKIPPED ?? 0) === rows.length,
    timed_out: timedOut,
    counts,
    blocked,
    failed: rows
      .filter((r) => r.status === "FAILED")
      .map((r) => {
        const c = costs.get(r.id) ?? NO_COST;
        return {
          task: r.id,
          error: oneLine(r.error),
          failure_kind: r.failure_kind,
          log: r.log_path,
          attempts: r.attempt,
          host: r.host,
          ...(r.spent_attempts !== r.attempt ? { counted_attempts: r.spent_attempts } : {}),
          ...(c.cost_usd !== null ? { cost_usd: c.cost_usd } : {}),
          ...(c.num_turns !== null ? { num_turns: c.num_turns } : {}),
          ...(r.failure_kind === "review_rejected" && r.review_feedback ? { review_feedback: oneLine(r.review_feedback, 400) ?? "" } : {}),
          next: nextStep(r.id, r.failure_kind),
        };
      }),
    ...totals(costs.values()),
    ...(scope.length ? { out_of_scope: scope } : {}),
    elapsed_s: Math.round((store.now() - since) / 100) / 10,
    order_elapsed_s: orderElapsedS(store, project, order),
  };
}

/** The order's first start to its last end (to now while a task still runs), in seconds. */
export function orderElapsedS(store: Store, project: string, order: string): number | null {
  const span = orderSpan(store, project, order);
  if (span.first_start === null) return null;
  const end = span.running > 0 || span.last_end === null ? store.now() : span.last_end;
  return Math.max(0, Math.round((end - span.first_start) / 100) / 10);
}

function countBlocked(store: Store, project: string, order: string): number {
  const tasks = loadProjectTasks(store, project);
  let n = 0;
  for (const [id] of findBlocked(tasks)) if (tasks.get(id)?.orderId === order && tasks.get(id)?.status === "QUEUED") n++;
  return n;
}

/** True when no task of the order is QUEUED (unblocked), IN_PROGRESS or REVIEW. */
export function orderSettled(store: Store, project: string, order: string): boolean {
  const open = countRunningInOrder(store, project, order);
  if (open > 0) return false;
  const queued = countQueuedInOrder(store, project, order);
  return queued === 0 || countBlocked(store, project, order) === queued;
}

export interface WaitInput {
  project: string;
  order: string;
  timeoutS?: number | undefined;
  runtime: RuntimeOptions;
  env: NodeJS.ProcessEnv;
  monitor?: ResourceMonitor | undefined;
  /** Workers this process has just launched: it records their ends itself. */
  launched?: readonly LaunchedTask[];
  onChange?: (s: Supervisor) => void;
  onTask?: (e: TaskEvent) => void;
  /** Each task of the order that reaches a final status while this waits (whoever recorded it). */
  onFinished?: (e: FinishedTask) => void;
  /** Stop waiting (the summary then says timed_out). */
  signal?: AbortSignal | undefined;
  startedAt?: number;
}

export async function waitForOrder(store: Store, input: WaitInput): Promise<WaitSummary> {
  const { project, order } = input;
  getOrder(store, project, order);
  const since = input.startedAt ?? store.now();
  const deadline = input.timeoutS !== undefined ? since + input.timeoutS * 1000 : Infinity;
  // Nothing of the project runs or can run and the order is settled (a PM polling a finished
  // order): the summary at once, without loading the supervisor (~40% of this command's start).
  const quiet = countRunnableOrders(store, project) === 0 && countRunningInProject(store, project) === 0 && orderSettled(store, project, order);
  const timedOut = quiet ? false : await superviseUntilSettled(store, project, [order], { ...input, deadline });
  const summary = orderSummary(store, project, order, since, timedOut && !orderSettled(store, project, order));
  markReported(store, [{ project, order }]);
  return summary;
}

/** Records that a wait reported these orders' ends (`wait --all` then covers them only when they end again). */
export function markReported(store: Store, refs: ReadonlyArray<{ project: string; order: string }>): void {
  markOrdersReported(store, refs, store.now());
}

export interface SuperviseInput extends Omit<WaitInput, "project" | "order" | "timeoutS" | "startedAt"> {
  /** Epoch ms; Infinity for none. */
  deadline: number;
}

/**
 * Supervises the project until every one of `orders` is settled, the deadline
 * passes or the signal aborts; then hands the project over. True when it
 * stopped before the orders settled.
 */
export async function superviseUntilSettled(store: Store, project: string, orders: readonly string[], input: SuperviseInput): Promise<boolean> {
  const [{ Supervisor }, { recover, hostOfEnv }] = await Promise.all([import("./supervisor.js"), import("./in-flight.js")]);
  recover(store, { project, ...input.runtime, ...hostOfEnv(input.env), gitSync: syncWanted(thisHost(input.env), store.path) });
  const finished = input.onFinished ? new FinishWatch(store, project, orders, input.onFinished) : null;
  let stoppedEarly = false;
  let lastCheck = 0;
  let settled = false;
  const supervisor: Supervisor = new Supervisor(store, project, {
    runtime: input.runtime,
    env: input.env,
    monitor: input.monitor,
    onChange: () => input.onChange?.(supervisor),
    onTask: input.onTask,
    until: () => {
      const now = store.now();
      if (now >= input.deadline || input.signal?.aborted) return (stoppedEarly = true);
      // Settled is read from the database at most every poll interval.
      if (now - lastCheck >= input.runtime.pollMs || supervisor.watched.size === 0) {
        lastCheck = now;
        finished?.check();
        settled = orders.every((o) => orderSettled(store, project, o));
      }
      return settled;
    },
  });
  for (const l of input.launched ?? []) supervisor.watchLaunched(l);
  await supervisor.run();
  finished?.check();
  handOver(store, project, input.env);
  return stoppedEarly;
}

export interface FinishedTask {
  project: string;
  order: string;
  task: string;
  status: TaskStatus;
  failure_kind: string | null;
  attempt: number;
}

const FINAL = new Set<string>(["DONE", "FAILED", "CANCELLED", "SKIPPED"]);

/** Reports each task of some orders that reaches a final status after the first look. */
class FinishWatch {
  private readonly seen = new Map<string, string>();
  constructor(
    private readonly store: Store,
    private readonly project: string,
    private readonly orders: readonly string[],
    private readonly report: (e: FinishedTask) => void,
  ) {
    for (const r of this.rows()) this.seen.set(r.id, r.status);
  }

  private rows(): OrderTaskState[] {
    return this.orders.flatMap((o) => orderTaskStates(this.store, this.project, o));
  }

  check(): void {
    for (const r of this.rows()) {
      const before = this.seen.get(r.id);
      this.seen.set(r.id, r.status);
      if (before === r.status || !FINAL.has(r.status)) continue;
      this.report({ project: this.project, order: r.order_id, task: r.id, status: r.status, failure_kind: r.failure_kind, attempt: r.attempt });
    }
  }
}

/** When something of the project still runs or can run, make sure a supervisor carries on. */
export function handOver(store: Store, project: string, env: NodeJS.ProcessEnv): void {
  const active = countRunnableOrders(store, project);
  if (active > 0 || countRunningInProject(store, project) > 0) ensureSupervisor(store, project, env);
}
