/**
 * The dependency graph of a project's tasks, with the questions aipm asks of
 * it: is there a cycle (named as `A -> B -> A`, read "A depends on B, which
 * depends on A"), which tasks are blocked by a FAILED or CANCELLED
 * dependency, directly or through other unfinished tasks, and each task's
 * dependency level (the dashboard's rows).
 *
 * Every walk here is iterative (an explicit stack or queue, never recursion),
 * so a chain of 100,000 tasks is as safe as a chain of 3, and every table is a
 * Map keyed by id, so an id such as `__proto__` or `constructor` is just a
 * string. (@dagrejs/graphlib, used before, keeps nodes in plain objects and
 * its Tarjan recursion overflowed the stack at ~5,000 chained tasks.)
 */
import type { TaskStatus } from "../store/schema.js";
import type { DepCondition } from "../store/statuses.js";
import { conditionOf, depBlocks, type WithConditions } from "./conditions.js";

export interface GraphNode {
  id: string;
  deps: readonly string[];
}

/** Each task's dependencies, by id; a dependency that is not a node itself is a leaf. */
export interface DepGraph {
  readonly deps: ReadonlyMap<string, readonly string[]>;
}

export function buildDepGraph(nodes: Iterable<GraphNode>): DepGraph {
  const deps = new Map<string, readonly string[]>();
  for (const n of nodes) deps.set(n.id, n.deps);
  return { deps };
}

function depsOf(g: DepGraph, id: string): readonly string[] {
  return g.deps.get(id) ?? [];
}

/**
 * Strongly connected components that hold a cycle (two or more tasks, or a
 * task depending on itself): Tarjan's algorithm with an explicit stack.
 */
export function cyclicComponents(g: DepGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const root of g.deps.keys()) {
    if (index.has(root)) continue;
    // Frames of the depth-first walk: a node and how many of its deps were tried.
    const frames: Array<{ id: string; i: number }> = [{ id: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      const deps = depsOf(g, f.id);
      if (f.i < deps.length) {
        const d = deps[f.i++]!;
        if (!index.has(d)) {
          index.set(d, next);
          low.set(d, next++);
          stack.push(d);
          onStack.add(d);
          frames.push({ id: d, i: 0 });
        } else if (onStack.has(d)) {
          low.set(f.id, Math.min(low.get(f.id)!, index.get(d)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(f.id)!));
      if (low.get(f.id) !== index.get(f.id)) continue;
      const scc: string[] = [];
      for (;;) {
        const x = stack.pop()!;
        onStack.delete(x);
        scc.push(x);
        if (x === f.id) break;
      }
      if (scc.length > 1 || depsOf(g, f.id).includes(f.id)) out.push(scc);
    }
  }
  return out;
}

/**
 * A cycle as `[A, B, A]` in depends-on order, or null when the graph is a DAG.
 * Deterministic: the component with the smallest id, walked from that id
 * along its dependencies in id order.
 */
export function findCycle(g: DepGraph): string[] | null {
  const scc = cyclicComponents(g)
    .map((c) => [...c].sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1))[0];
  if (!scc) return null;
  const start = scc[0]!;
  if (depsOf(g, start).includes(start)) return [start, start];
  const inScc = new Set(scc);
  const sortedDeps = (id: string) => depsOf(g, id).filter((d) => inScc.has(d)).sort();
  const path: string[] = [start];
  const seen = new Set<string>([start]);
  const frames: Array<{ deps: string[]; i: number }> = [{ deps: sortedDeps(start), i: 0 }];
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.i >= f.deps.length) {
      frames.pop();
      path.pop();
      continue;
    }
    const d = f.deps[f.i++]!;
    if (d === start) {
      path.push(start);
      return path;
    }
    if (seen.has(d)) continue;
    seen.add(d);
    path.push(d);
    frames.push({ deps: sortedDeps(d), i: 0 });
  }
  return [...scc, start];
}

/** `cycle: A -> B -> A`; a cycle of more than 20 tasks shows its first 10 and last 5. */
export function formatCycle(cycle: readonly string[]): string {
  if (cycle.length <= 20) return `cycle: ${cycle.join(" -> ")}`;
  const left = cycle.length - 15;
  return `cycle: ${cycle.slice(0, 10).join(" -> ")} -> ... (${left} more) -> ${cycle.slice(-5).join(" -> ")}`;
}

/**
 * Each task's dependency level among `nodes`: 0 without dependencies among
 * them, else 1 + the highest level of those (Kahn's order, a queue). Tasks
 * on a cycle, which has no level, get 0.
 */
export function dependencyLevels(nodes: Iterable<GraphNode>): Map<string, number> {
  const deps = new Map<string, readonly string[]>();
  for (const n of nodes) deps.set(n.id, n.deps);
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const level = new Map<string, number>();
  const queue: string[] = [];
  for (const [id, ds] of deps) {
    const inSet = [...new Set(ds)].filter((d) => deps.has(d));
    waiting.set(id, inSet.length);
    for (const d of inSet) {
      const list = dependents.get(d);
      if (list) list.push(id);
      else dependents.set(d, [id]);
    }
    if (inSet.length === 0) queue.push(id);
    level.set(id, 0);
  }
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i]!;
    const l = level.get(at)!;
    for (const next of dependents.get(at) ?? []) {
      if (level.get(next)! < l + 1) level.set(next, l + 1);
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  for (const [id, left] of waiting) if (left > 0) level.set(id, 0);
  return level;
}

/**
 * For every task that a FAILED or CANCELLED task blocks (directly, or through
 * dependents that are not DONE), the id of that failed task. A task reachable
 * from several failures gets the nearest one (breadth-first).
 *
 * It runs on every launch: a plain map of dependents, built in one pass.
 */
export function blockedBy(nodes: Iterable<GraphNode & WithConditions & { status: TaskStatus }>): Map<string, string> {
  const status = new Map<string, TaskStatus>();
  // Each dependent with the condition it puts on the dependency.
  const dependents = new Map<string, Array<[string, DepCondition]>>();
  const queue: Array<[string, string]> = [];
  for (const n of nodes) {
    status.set(n.id, n.status);
    if (n.status === "FAILED" || n.status === "CANCELLED") queue.push([n.id, n.id]);
    for (const d of n.deps) {
      const edge: [string, DepCondition] = [n.id, conditionOf(n, d)];
      const list = dependents.get(d);
      if (list) list.push(edge);
      else dependents.set(d, [edge]);
    }
  }
  const out = new Map<string, string>();
  for (let i = 0; i < queue.length; i++) {
    const [at, root] = queue[i]!;
    const atStatus = status.get(at);
    for (const [next, condition] of dependents.get(at) ?? []) {
      if (out.has(next)) continue;
      if (status.get(next) !== "QUEUED" && status.get(next) !== undefined) continue;
      // A failed task blocks only the tasks that need its success; a blocked one blocks every dependent.
      if (at === root ? !depBlocks(condition, atStatus) : false) continue;
      out.set(next, root);
      queue.push([next, root]);
    }
  }
  return out;
}
