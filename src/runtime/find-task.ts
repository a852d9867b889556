/** Finding a task by id when the project may be omitted (`kill`, `retry`, `logs`). */
import type { Store } from "../store/open.js";
import type { TaskStatus } from "../store/schema.js";
import { stmt } from "../store/statements.js";
import { notFound, usageError } from "../errors.js";

export interface TaskRef {
  project: string;
  order: string;
  task: string;
  status: TaskStatus;
  attempt: number;
}

export function findTask(store: Store, task: string, project?: string): TaskRef {
  const rows = stmt(
    store,
    `SELECT project_id AS project, order_id AS "order", id AS task, status, attempt FROM tasks
      WHERE id = @task AND (@project IS NULL OR project_id = @project) ORDER BY project_id`,
  ).all({ task, project: project ?? null }) as TaskRef[];
  if (rows.length === 0) {
    if (project !== undefined) {
      const p = stmt(store, "SELECT id FROM projects WHERE id = ?").get(project);
      if (!p) throw notFound.project(project);
    }
    throw notFound.task(task, project);
  }
  if (rows.length > 1) {
    throw usageError(`task ${task} exists in projects ${rows.map((r) => r.project).join(", ")}: name one with --project`);
  }
  return rows[0]!;
}
