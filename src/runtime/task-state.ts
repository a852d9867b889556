/**
 * Checkpoints: each task has a state directory of its own that survives its
 * attempts — `<db folder>/state/<project>/<task>/`, given to every attempt as
 * `AIPM_STATE_DIR` — so a long job can save its progress there and, on an
 * attempt after a crash, a stall kill or a reboot (`AIPM_RESUME=1`,
 * `AIPM_PREVIOUS_OUTCOME`), continue from its last checkpoint rather than
 * start over. The directory is removed once the task is DONE, and by
 * `aipm cleanup` for tasks that ended otherwise.
 */
import { mkdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";

export function taskStateDir(dbDir: string, project: string, task: string): string {
  return join(dbDir, "state", project, task);
}

export function ensureTaskState(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Removes a task's state directory; never throws (a checkpoint left behind is only disk space). */
export function removeTaskState(dbDir: string, project: string, task: string): void {
  try {
    rmSync(taskStateDir(dbDir, project, task), { recursive: true, force: true });
  } catch {
    // cleanup will try again
  }
}

/**
 * The same off the caller's thread, for a supervisor recording a task DONE: an
 * rmdir cost it 0.1-0.6 ms per task on a busy disk, on the path that launches
 * the next one. Safe to do late: DONE is final, no attempt of the task will look
 * for the directory again. If the process exits first, cleanup removes it.
 */
export function removeTaskStateSoon(dbDir: string, project: string, task: string): Promise<void> {
  return rm(taskStateDir(dbDir, project, task), { recursive: true, force: true }).catch(() => {
    // cleanup will try again
  });
}
