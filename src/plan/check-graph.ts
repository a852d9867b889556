/**
 * Plan checks that need the project's existing tasks: unknown dependencies,
 * a task id already used by another order, and dependency cycles in the graph
 * the import would leave behind (tasks that are not QUEUED keep their
 * dependencies: import never changes them).
 */
import type { TaskNode } from "../store/read-project.js";
import type { PlanSpec } from "./spec.js";
import { buildDepGraph, findCycle, formatCycle, type GraphNode } from "../detect/dep-graph.js";

export function checkAgainstProject(plan: PlanSpec, existing: ReadonlyMap<string, TaskNode>): string[] {
  const errors: string[] = [];
  const inPlan = new Map<string, { deps: string[]; orderId: string }>();
  for (const o of plan.orders) for (const t of o.tasks) inPlan.set(t.id, { deps: t.deps, orderId: o.id });

  for (const o of plan.orders) {
    for (const t of o.tasks) {
      const old = existing.get(t.id);
      if (old && old.orderId !== o.id) {
        errors.push(`${t.place}.id: task ${t.id} already exists in order ${old.orderId}`);
      }
      t.deps.forEach((d, i) => {
        if (!inPlan.has(d) && !existing.has(d)) errors.push(`${t.place}.deps[${i}]: unknown task ${d}`);
      });
    }
  }
  if (errors.length > 0) return errors;

  const nodes: GraphNode[] = [];
  for (const [id, old] of existing) {
    const next = inPlan.get(id);
    nodes.push({ id, deps: next && old.status === "QUEUED" ? next.deps : old.deps });
  }
  for (const [id, t] of inPlan) if (!existing.has(id)) nodes.push({ id, deps: t.deps });
  const cycle = findCycle(buildDepGraph(nodes));
  if (cycle) errors.push(formatCycle(cycle));
  return errors;
}
