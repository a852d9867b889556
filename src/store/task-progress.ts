/** Table `tasks`, columns `progress_*`: a running worker's progress, guarded by its attempt still running. */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

/** Records the progress of the running attempt (`attempt` null: whichever runs); false when it is not running. */
export function recordProgress(
  store: Store,
  p: { project: string; task: string; attempt: number | null; done: number; total: number; label: string | null },
): boolean {
  return (
    stmt(
      store,
      `UPDATE tasks SET progress_done = ?, progress_total = ?, progress_label = ?
      WHERE project_id = ? AND id = ? AND status = 'IN_PROGRESS' AND (CAST(? AS INTEGER) IS NULL OR attempt = ?)`,
    ).run(p.done, p.total, p.label, p.project, p.task, p.attempt, p.attempt).changes === 1
  );
}
