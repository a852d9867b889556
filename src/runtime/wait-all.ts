/**
 * `aipm wait --all [PROJECT]` as a library call: wait for every order that is
 * active when it starts (launched and not finished, or with a task still
 * running), of one project or of all, supervising each project meanwhile as
 * `wait` does for one order; then one summary over all of them.
 */
import type { Store } from "../store/open.js";
import { getProject } from "../store/read-project.js";
import { openOrders, orderCreationTimes } from "../store/orders.js";
import { orderEndsSince } from "../store/events.js";
import { TASK_STATUSES, type TaskStatus } from "../store/statuses.js";
import { markReported, orderSettled, orderSummary, superviseUntilSettled, type FailedTask, type WaitInput } from "./wait-order.js";

export interface OrderRef {
  project: string;
  order: string;
}

export interface WaitAllSummary {
  /** The project waited for, or null for every project. */
  project: string | null;
  /** Every order waited for, with its non-zero counts. */
  orders: Array<{ project: string; order: string; done: boolean; counts: Partial<Record<TaskStatus, number>>; order_elapsed_s: number | null }>;
  /** Every task of every order is DONE (or SKIPPED); true when there was no order to wait for. */
  done: boolean;
  timed_out: boolean;
  counts: Record<TaskStatus, number>;
  blocked: number;
  failed: Array<FailedTask & { project: string; order: string }>;
  cost_usd: number | null;
  num_turns: number | null;
  elapsed_s: number;
}

export type WaitAllInput = Omit<WaitInput, "project" | "order" | "launched" | "onChange" | "onTask"> & { project?: string | undefined };

/** How far back `--all` looks for orders that ended before it started and no wait has reported. */
export const UNREPORTED_WINDOW_MS = 24 * 3600_000;

/**
 * The orders `wait --all` covers: launched and not finished, with a task
 * running or in review, or ended (in the last 24 hours) since a wait last
 * reported them — so an order that finished between its launch and the wait
 * is still reported, once.
 */
export function activeOrders(store: Store, project?: string): OrderRef[] {
  if (project !== undefined) getProject(store, project);
  const open = openOrders(store, project);
  const ends = orderEndsSince(store, store.now() - UNREPORTED_WINDOW_MS, project);
  const unreported = new Map<string, OrderRef>();
  for (const e of ends) {
    const key = `${e.project}\0${e.order}`;
    if (e.kind === "order_reported") unreported.delete(key);
    else unreported.set(key, { project: e.project, order: e.order });
  }
  const all = new Map<string, OrderRef>();
  for (const r of [...open, ...unreported.values()]) all.set(`${r.project}\0${r.order}`, r);
  const created = orderCreationTimes(store);
  return [...all.entries()]
    .filter(([k]) => created.has(k))
    .sort(([a], [b]) => (a.split("\0")[0]!.localeCompare(b.split("\0")[0]!) || created.get(a)! - created.get(b)!))
    .map(([, r]) => r);
}

export async function waitForAll(store: Store, input: WaitAllInput): Promise<WaitAllSummary> {
  const since = input.startedAt ?? store.now();
  const deadline = input.timeoutS !== undefined ? since + input.timeoutS * 1000 : Infinity;
  const refs = activeOrders(store, input.project);
  const byProject = new Map<string, string[]>();
  for (const r of refs) byProject.set(r.project, [...(byProject.get(r.project) ?? []), r.order]);
  // One supervisor per project, side by side: each launches its project's successors.
  const early = await Promise.all(
    [...byProject].map(([project, orders]) => superviseUntilSettled(store, project, orders, { ...input, deadline })),
  );
  const summaries = refs.map((r) => orderSummary(store, r.project, r.order, since, false));
  markReported(store, refs);
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  let cost: number | null = null;
  let turns: number | null = null;
  for (const s of summaries) {
    for (const k of TASK_STATUSES) counts[k] += s.counts[k];
    if (s.cost_usd !== null) cost = (cost ?? 0) + s.cost_usd;
    if (s.num_turns !== null) turns = (turns ?? 0) + s.num_turns;
  }
  const done = summaries.every((s) => s.done);
  return {
    project: input.project ?? null,
    orders: summaries.map((s) => ({
      project: s.project,
      order: s.order,
      done: s.done,
      counts: Object.fromEntries(Object.entries(s.counts).filter(([, n]) => n > 0)),
      order_elapsed_s: s.order_elapsed_s,
    })),
    done,
    timed_out: early.some(Boolean) && refs.some((r) => !orderSettled(store, r.project, r.order)),
    counts,
    blocked: summaries.reduce((n, s) => n + s.blocked, 0),
    failed: summaries.flatMap((s) => s.failed.map((f) => ({ project: s.project, order: s.order, ...f }))),
    cost_usd: cost === null ? null : Math.round(cost * 1e4) / 1e4,
    num_turns: turns,
    elapsed_s: Math.round((store.now() - since) / 100) / 10,
  };
}
