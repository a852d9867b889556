/** Finding a task by id when the project may be omitted (`kill`, `retry`, `logs`). */
import type { Store } from "../store/open.js";
import { projectExists } from "../store/projects.js";
import { tasksWithId, type TaskRef } from "../store/tasks-read.js";
import { notFound, usageError } from "../errors.js";

export type { TaskRef };

export function findTask(store: Store, task: string, project?: string): TaskRef {
  const rows = tasksWithId(store, task, project);
  if (rows.length === 0) {
    if (project !== undefined) {
      if (!projectExists(store, project)) throw notFound.project(project);
    }
    throw notFound.task(task, project);
  }
  if (rows.length > 1) {
    throw usageError(`task ${task} exists in projects ${rows.map((r) => r.project).join(", ")}: name one with --project`);
  }
  return rows[0]!;
}
