/**
 * Table `runs`, read for costs: what each task's attempts cost (turns, USD), the
 * files they edited outside their targets, the attempts that resumed a session.
 * Its own module (not ./runs.ts) so that the commands that only report — `wait`
 * on a finished order, `status` — do not load the runtime's modules with it.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { jsonArrayAgg } from "./dialect.js";

/** Per task: cost and turns summed over its runs and their reviews (null: none reported), scope reports, resumed attempts. */
export interface RunCosts {
  task_id: string;
  cost: number | null;
  turns: number | null;
  /** JSON array of the runs' `out_of_scope` JSON arrays. */
  scopes: string | null;
  /** JSON array of the attempts that resumed a session. */
  resumed: string | null;
}

/** Tasks without any run are absent. */
export function runCosts(store: Store, project: string, order?: string): RunCosts[] {
  return stmt(
    store,
    `SELECT r.task_id,
            CASE WHEN COUNT(r.cost_usd) + COUNT(r.review_cost_usd) > 0
                 THEN COALESCE(SUM(r.cost_usd), 0) + COALESCE(SUM(r.review_cost_usd), 0) END AS cost,
            CASE WHEN COUNT(r.num_turns) + COUNT(r.review_num_turns) > 0
                 THEN COALESCE(SUM(r.num_turns), 0) + COALESCE(SUM(r.review_num_turns), 0) END AS turns,
            ${jsonArrayAgg(store.kind, "r.out_of_scope", "r.out_of_scope IS NOT NULL")} AS scopes,
            ${jsonArrayAgg(store.kind, "r.attempt", "r.resumed_from IS NOT NULL")} AS resumed
       FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.project_id = @project AND (CAST(@order AS TEXT) IS NULL OR t.order_id = @order)
      GROUP BY r.task_id`,
  ).all({ project, order: order ?? null }) as RunCosts[];
}
