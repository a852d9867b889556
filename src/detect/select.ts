/**
 * The detector: given a project's tasks, the locks held now and the free
 * slots, which QUEUED tasks of one order may launch, in what order, and why
 * every other QUEUED task may not. Pure: no I/O, no clock of its own.
 *
 * The dependency walk (blocked propagation) is in ./dep-graph.ts.
 *
 * A QUEUED task of the order is checked in launch order (priority P0 first,
 * then creation order) and skipped with the first reason that holds:
 *   blocked        a FAILED/CANCELLED dependency, direct or transitive
 *   paused         its order is paused
 *   host           it asks for host labels (`runs_on`) this host lacks (`runs_on`, `host`, `host_labels`),
 *                  or git sync is on and this host has no root of its own for the project (`no_root`)
 *   dependency     some dependency has not ended as its condition asks (`waiting_for`; see ./conditions.ts)
 *   backoff        waiting out a retry backoff (`retry_at`)
 *   rate_limit     an agent task while a usage limit holds the project's agents (`retry_at`)
 *   budget         an agent task of an order whose spent cost reached its budget
 *   file_conflict  a target conflicts with a held lock or with a task chosen
 *                  earlier in this pass (`file` is the other side's entry)
 *   capacity       chosen tasks already fill the free slots
 */
import type { Priority } from "../store/schema.js";
import type { TaskNode, HeldLock } from "../store/read-project.js";
import { blockedBy } from "./dep-graph.js";
import { hostHasLabels } from "./host-need.js";
import { conditionOf, depSatisfied } from "./conditions.js";
import { LockIndex } from "../paths/lock-index.js";
import type { AgentGate } from "../store/agent-gates.js";

export type SkipReason =
  | { task: string; reason: "blocked"; failed_dependency: string }
  | { task: string; reason: "paused" }
  | { task: string; reason: "host"; runs_on: string[]; host: string | null; host_labels: string[]; no_root?: true }
  | { task: string; reason: "dependency"; waiting_for: string[] }
  | { task: string; reason: "backoff"; retry_at: string }
  | { task: string; reason: "rate_limit"; retry_at: string }
  | { task: string; reason: "budget"; budget_usd: number; spent_usd: number }
  | { task: string; reason: "file_conflict"; file: string; held_by: string }
  | { task: string; reason: "capacity" };

export interface DetectInput {
  /** Every task of the project (dependencies may cross orders). */
  tasks: ReadonlyMap<string, TaskNode>;
  orderId: string;
  paused: boolean;
  locks: readonly HeldLock[];
  freeSlots: number;
  now: number;
  /**
   * The order's candidates already in launch order (a supervisor keeps this
   * list between passes); QUEUED is still checked. Default: computed here.
   */
  candidates?: readonly TaskNode[];
  /** Stop at the first task cut by capacity: `skipped` is then incomplete (supervisor passes). */
  stopWhenFull?: boolean;
  /** Blocked tasks, when the caller already knows them. */
  blocked?: Map<string, string>;
  /** A usage-limit hold and the order's budget: they hold back agent tasks only. */
  agentGate?: AgentGate | undefined;
  /**
   * This host (src/config/host.ts): a task with `runs_on` launches only when it has every label. Absent: a host without labels.
   * `noRoot`: git sync needs a root of this host's own for the project and it has none (src/git-sync/root-need.ts): nothing launches here.
   */
  host?: { name: string; labels: readonly string[]; noRoot?: boolean } | undefined;
}

export interface Detection {
  /** Selected tasks in launch order, at most `freeSlots` of them. */
  launchable: TaskNode[];
  skipped: SkipReason[];
  /** Every QUEUED task of the order that is blocked, with its failed dependency. */
  blocked: Map<string, string>;
}

const PRIORITY_RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

export function byLaunchOrder(a: TaskNode, b: TaskNode): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.seq - b.seq;
}

/** Tasks blocked by a failed or cancelled dependency, over the whole project. */
export function findBlocked(tasks: ReadonlyMap<string, TaskNode>): Map<string, string> {
  let anyFailed = false;
  for (const t of tasks.values()) {
    if (t.status === "FAILED" || t.status === "CANCELLED") {
      anyFailed = true;
      break;
    }
  }
  if (!anyFailed) return new Map();
  return blockedBy(tasks.values());
}

/** QUEUED tasks of an order in launch order. */
export function orderCandidates(tasks: ReadonlyMap<string, TaskNode>, orderId: string): TaskNode[] {
  return [...tasks.values()].filter((t) => t.orderId === orderId && t.status === "QUEUED").sort(byLaunchOrder);
}

export function detect(input: DetectInput): Detection {
  const { tasks, orderId, paused, locks, now } = input;
  const freeSlots = Math.max(0, input.freeSlots);
  const queued = input.candidates ?? orderCandidates(tasks, orderId);
  const blocked = input.blocked ?? findBlocked(tasks);

  const taken = new LockIndex<string>();
  for (const l of locks) taken.add(l.path, l.taskId);

  const launchable: TaskNode[] = [];
  const skipped: SkipReason[] = [];
  const orderBlocked = new Map<string, string>();
  const hold = input.agentGate?.holdUntil ?? null;
  const heldUntil = hold !== null && hold > now ? new Date(hold).toISOString() : null;
  const budget = input.agentGate?.budget ?? null;
  const overBudget = budget !== null && budget.spentUsd >= budget.budgetUsd;
  const hostLabels: readonly string[] = input.host?.labels ?? [];
  for (const t of queued) {
    if (t.status !== "QUEUED") continue;
    const failed = blocked.get(t.id);
    if (failed !== undefined) {
      orderBlocked.set(t.id, failed);
      skipped.push({ task: t.id, reason: "blocked", failed_dependency: failed });
      continue;
    }
    if (paused) {
      skipped.push({ task: t.id, reason: "paused" });
      continue;
    }
    if (input.host?.noRoot) {
      skipped.push({ task: t.id, reason: "host", runs_on: t.runsOn ?? [], host: input.host.name, host_labels: [...hostLabels], no_root: true });
      continue;
    }
    if (t.runsOn && !hostHasLabels(t.runsOn, hostLabels)) {
      skipped.push({ task: t.id, reason: "host", runs_on: t.runsOn, host: input.host?.name ?? null, host_labels: [...hostLabels] });
      continue;
    }
    const waiting = t.deps.filter((d) => !depSatisfied(conditionOf(t, d), tasks.get(d)?.status));
    if (waiting.length > 0) {
      skipped.push({ task: t.id, reason: "dependency", waiting_for: waiting });
      continue;
    }
    if (t.agent && overBudget) {
      skipped.push({ task: t.id, reason: "budget", budget_usd: budget.budgetUsd, spent_usd: Math.round(budget.spentUsd * 1e4) / 1e4 });
      continue;
    }
    if (t.agent && heldUntil !== null) {
      skipped.push({ task: t.id, reason: "rate_limit", retry_at: heldUntil });
      continue;
    }
    if (t.retryAt !== null && t.retryAt > now) {
      skipped.push({ task: t.id, reason: "backoff", retry_at: new Date(t.retryAt).toISOString() });
      continue;
    }
    const conflict = taken.findFirstConflict(t.targetFiles);
    if (conflict && conflict.owner !== t.id) {
      skipped.push({ task: t.id, reason: "file_conflict", file: conflict.path, held_by: conflict.owner });
      continue;
    }
    if (launchable.length >= freeSlots) {
      skipped.push({ task: t.id, reason: "capacity" });
      if (input.stopWhenFull) break;
      continue;
    }
    launchable.push(t);
    taken.addAll(t.targetFiles, t.id);
  }
  return { launchable, skipped, blocked: orderBlocked };
}
