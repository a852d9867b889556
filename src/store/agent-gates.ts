/**
 * What may hold back an agent task besides its dependencies, locks and
 * slots: a usage limit holding every agent task of the project until its
 * reset (`projects.agent_hold_until`, set by `finish`), and an order whose
 * spent cost (workers and reviewers) has reached its `budget_usd`.
 * Command tasks are never held by either.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface AgentGate {
  /** Agent tasks of the project wait until this time (epoch ms), when it is in the future. */
  holdUntil: number | null;
  /** The order's budget and what it has spent; null when it has no budget. */
  budget: { budgetUsd: number; spentUsd: number } | null;
}

/** The project's usage-limit hold (epoch ms), past or not; null when it has none (or no such project). */
export function projectHoldUntil(store: Store, project: string): number | null {
  return (stmt(store, "SELECT agent_hold_until FROM projects WHERE id = ?").pluck().get(project) as number | null | undefined) ?? null;
}

/** The order's `budget_usd`; null when it has none (or no such order). */
export function orderBudgetUsd(store: Store, project: string, order: string): number | null {
  return (stmt(store, "SELECT budget_usd FROM orders WHERE project_id = ? AND id = ?").pluck().get(project, order) as number | null | undefined) ?? null;
}

/** What the order's runs have cost so far: workers and reviewers. */
export function orderSpentUsd(store: Store, project: string, order: string): number {
  return stmt(
    store,
    `SELECT COALESCE(SUM(COALESCE(r.cost_usd, 0) + COALESCE(r.review_cost_usd, 0)), 0)
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE t.project_id = ? AND t.order_id = ?`,
  )
    .pluck()
    .get(project, order) as number;
}

export function agentGate(store: Store, project: string, order: string): AgentGate {
  const now = store.now();
  const hold = projectHoldUntil(store, project);
  const budgetUsd = orderBudgetUsd(store, project, order);
  const spentUsd = budgetUsd != null ? orderSpentUsd(store, project, order) : 0;
  return {
    holdUntil: hold != null && hold > now ? hold : null,
    budget: budgetUsd != null ? { budgetUsd, spentUsd } : null,
  };
}

export function budgetReached(gate: AgentGate): boolean {
  return gate.budget !== null && gate.budget.spentUsd >= gate.budget.budgetUsd;
}
