/**
 * SKIPPED, the end of a task whose dependency conditions can no longer be met
 * (see src/detect/conditions.ts): an `on: failure` dependency ended DONE (or
 * CANCELLED, or SKIPPED), a plain one ended SKIPPED. Runs inside the
 * transaction that ended a task, so no one ever sees a task waiting for what
 * cannot happen; it walks on (iteratively) to what depended on a skipped task.
 *
 * `unskip` is the way back: a `retry` of a task puts the tasks skipped because
 * of it (and those skipped because of them) back to QUEUED, to be judged again.
 */
import type { Store } from "./open.js";
import type { DepCondition, TaskStatus } from "./statuses.js";
import { stmt } from "./statements.js";
import { depUnmeetable } from "../detect/conditions.js";

function stmts(store: Store) {
  return {
    dependents: stmt(
      store,
      `SELECT d.task_id, d.condition, t.order_id FROM task_deps d
         JOIN tasks t ON t.project_id = d.project_id AND t.id = d.task_id
        WHERE d.project_id = ? AND d.dep_id = ? AND t.status = 'QUEUED'`,
    ),
    status: stmt(store, "SELECT status FROM tasks WHERE project_id = ? AND id = ?").pluck(),
    skip: stmt(
      store,
      `UPDATE tasks SET status = 'SKIPPED', finished_at = @now, updated_at = @now, error = @error, failure_kind = NULL,
              retry_at = NULL, skipped_by = @dep
        WHERE project_id = @project AND id = @task AND status = 'QUEUED'`,
    ),
    skippedBy: stmt(store, "SELECT id, order_id FROM tasks WHERE project_id = ? AND skipped_by = ? AND status = 'SKIPPED'"),
    unskip: stmt(
      store,
      `UPDATE tasks SET status = 'QUEUED', finished_at = NULL, error = NULL, skipped_by = NULL, updated_at = ?
        WHERE project_id = ? AND id = ? AND status = 'SKIPPED'`,
    ),
    depsOf: stmt(store, "SELECT dep_id FROM task_deps WHERE project_id = ? AND task_id = ?").pluck(),
    event: stmt(store, "INSERT INTO events (ts, project_id, order_id, task_id, attempt, kind, data) VALUES (?, ?, ?, ?, NULL, ?, ?)"),
  };
}

/** Skips what the end of `ended` made unmeetable, and what that made unmeetable in turn. Returns the skipped ids. */
export function skipUnmeetable(store: Store, now: number, project: string, ended: readonly string[]): string[] {
  const s = stmts(store);
  const skipped: string[] = [];
  const queue = [...ended];
  for (let i = 0; i < queue.length; i++) {
    const dep = queue[i]!;
    const depStatus = s.status.get(project, dep) as TaskStatus | undefined;
    if (depStatus === undefined) continue;
    for (const d of s.dependents.all(project, dep) as Array<{ task_id: string; condition: DepCondition; order_id: string }>) {
      if (!depUnmeetable(d.condition, depStatus)) continue;
      const error = `skipped: ${dep} ended ${depStatus} and it runs ${d.condition === "failure" ? "only if it fails" : "only after it is DONE"}`;
      if (s.skip.run({ now, error, dep, project, task: d.task_id }).changes !== 1) continue;
      s.event.run(now, project, d.order_id, d.task_id, "task_skipped", JSON.stringify({ because: dep, status: depStatus, on: d.condition }));
      skipped.push(d.task_id);
      queue.push(d.task_id);
    }
  }
  return skipped;
}

/**
 * After a retry of `task`: the tasks skipped because of it (directly or in a
 * chain) are QUEUED again, then judged again against all their dependencies.
 */
export function unskip(store: Store, now: number, project: string, task: string): string[] {
  const s = stmts(store);
  const back: string[] = [];
  const queue = [task];
  for (let i = 0; i < queue.length; i++) {
    for (const t of s.skippedBy.all(project, queue[i]!) as Array<{ id: string; order_id: string }>) {
      if (s.unskip.run(now, project, t.id).changes !== 1) continue;
      s.event.run(now, project, t.order_id, t.id, "task_unskipped", JSON.stringify({ because: queue[i] }));
      back.push(t.id);
      queue.push(t.id);
    }
  }
  const deps = new Set<string>();
  for (const t of back) for (const d of s.depsOf.all(project, t) as string[]) deps.add(d);
  skipUnmeetable(store, now, project, [...deps]);
  return back;
}
