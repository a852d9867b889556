/**
 * What agent tasks cost, read from their attempts: per task the sum over
 * every attempt of `total_cost_usd` and `num_turns`, its reviews' included
 * (null for a task no agent reported on), and the files its attempts changed outside its target_files;
 * per order the totals. Shared by `status` and `wait`.
 */
import type { Store } from "../store/open.js";
import { runCosts } from "../store/run-costs.js";

export interface TaskCost {
  cost_usd: number | null;
  num_turns: number | null;
  out_of_scope: string[];
  /** Attempts that continued the previous attempt's Claude session (`--resume`). */
  resumed_attempts: number[];
}

export function roundUsd(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Per task of the project (and order, when given). Tasks without any run are absent. */
export function taskCosts(store: Store, project: string, order?: string): Map<string, TaskCost> {
  const rows = runCosts(store, project, order);
  const out = new Map<string, TaskCost>();
  for (const r of rows) {
    const files = new Set<string>();
    for (const s of JSON.parse(r.scopes ?? "[]") as string[]) for (const f of JSON.parse(s) as string[]) files.add(f);
    out.set(r.task_id, {
      cost_usd: r.cost === null ? null : roundUsd(r.cost),
      num_turns: r.turns,
      out_of_scope: [...files].sort(),
      resumed_attempts: (JSON.parse(r.resumed ?? "[]") as number[]).sort((a, b) => a - b),
    });
  }
  return out;
}

export const NO_COST: TaskCost = { cost_usd: null, num_turns: null, out_of_scope: [], resumed_attempts: [] };

/** Sums over tasks: null when no task reported a cost. */
export function totals(costs: Iterable<TaskCost>): { cost_usd: number | null; num_turns: number | null } {
  let cost: number | null = null;
  let turns: number | null = null;
  for (const c of costs) {
    if (c.cost_usd !== null) cost = (cost ?? 0) + c.cost_usd;
    if (c.num_turns !== null) turns = (turns ?? 0) + c.num_turns;
  }
  return { cost_usd: cost === null ? null : roundUsd(cost), num_turns: turns };
}
