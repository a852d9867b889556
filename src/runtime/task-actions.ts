/**
 * What a person does to a task or an order by hand — from the CLI or the
 * dashboard — as library calls: kill (or requeue) a task, retry a failed
 * one, pause or resume an order, scale its workers. Each one also makes sure that a supervisor
 * picks up what became launchable.
 */
import type { Store } from "../store/open.js";
import { reactivateOrder, scaleOrder } from "../store/orders.js";
import { retry, setPaused } from "../store/transitions.js";
import { getOrder } from "../store/read-project.js";
import { usageError } from "../errors.js";
import { resolveRuntimeOptions } from "../config/runtime-options.js";
import { checkMaxWorkers, LAUNCH_DEFAULTS, resolveLaunchOptions, type LaunchOptions } from "../config/launch-options.js";
import { findTask } from "./find-task.js";
import { killTask, type KillResult } from "./kill-task.js";
import { ensureSupervisor } from "./ensure-supervisor.js";
import { handOver } from "./wait-order.js";

/** After a task goes back to QUEUED by hand, its order needs a supervisor to launch it. */
function reactivate(store: Store, project: string, order: string, env: NodeJS.ProcessEnv): void {
  reactivateOrder(store, project, order);
  ensureSupervisor(store, project, env);
}

export async function killAction(
  store: Store,
  r: { task: string; project?: string | undefined; requeue: boolean; env: NodeJS.ProcessEnv },
): Promise<KillResult> {
  const rt = resolveRuntimeOptions(r.env);
  const res = await killTask(store, { task: r.task, project: r.project, requeue: r.requeue, graceS: rt.killGraceS, backoffS: rt.backoffS });
  if (r.requeue && res.status === "QUEUED") reactivate(store, res.project, res.order, r.env);
  return res;
}

export function retryAction(
  store: Store,
  r: { task: string; project?: string | undefined; env: NodeJS.ProcessEnv },
): { project: string; order: string; task: string; was: string; status: "QUEUED" } {
  const ref = findTask(store, r.task, r.project);
  if (!retry(store, ref.project, ref.task)) {
    throw usageError(`task ${ref.task} is ${ref.status}: only FAILED, CANCELLED or SKIPPED tasks can be retried`);
  }
  reactivate(store, ref.project, ref.order, r.env);
  return { project: ref.project, order: ref.order, task: ref.task, was: ref.status, status: "QUEUED" };
}

export function pauseAction(
  store: Store,
  r: { project: string; order: string; paused: boolean; env: NodeJS.ProcessEnv },
): { project: string; order: string; paused: boolean } {
  getOrder(store, r.project, r.order);
  setPaused(store, r.project, r.order, r.paused);
  if (!r.paused) handOver(store, r.project, r.env);
  return { project: r.project, order: r.order, paused: r.paused };
}

/**
 * `aipm scale PROJECT ORDER N`: the order's worker limit becomes N at once —
 * stored with the order (the limits its successors launch under, and what
 * `parallel-launch --dry-run` shows when no --max-workers is given), recorded
 * as an `order_scaled` event; an active order's supervisor launches into the
 * new slots (or lets the running tasks finish: nothing is stopped).
 */
export function scaleAction(
  store: Store,
  r: { project: string; order: string; workers: number; env: NodeJS.ProcessEnv },
): { project: string; order: string; max_workers: number; was: number; active: boolean } {
  const o = getOrder(store, r.project, r.order);
  const workers = checkMaxWorkers(r.workers, "workers");
  const stored: Partial<LaunchOptions> = o.launchOptions ? (JSON.parse(o.launchOptions) as Partial<LaunchOptions>) : {};
  const base = o.launchOptions ? { ...LAUNCH_DEFAULTS, ...stored } : resolveLaunchOptions({}, r.env);
  const was = base.maxWorkers;
  scaleOrder(store, r.project, r.order, JSON.stringify({ ...base, maxWorkers: workers, scaled: true }), was, workers);
  if (o.active && workers > was) handOver(store, r.project, r.env);
  return { project: r.project, order: r.order, max_workers: workers, was, active: o.active };
}
