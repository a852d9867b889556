/**
 * Reading a task's logs (`aipm logs`) and deleting old ones (`aipm cleanup`).
 */
import { readFileSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../store/open.js";
import { stmt } from "../store/statements.js";
import { stripTrailer } from "../../worker/task-wrapper.js";
import { findTask, type TaskRef } from "./find-task.js";

export interface LatestLog {
  ref: TaskRef;
  attempt: number | null;
  path: string | null;
}

export function latestLog(store: Store, task: string, project?: string): LatestLog {
  const ref = findTask(store, task, project);
  const row = stmt(
    store,
    "SELECT attempt, log_path FROM runs WHERE project_id = ? AND task_id = ? ORDER BY attempt DESC LIMIT 1",
  ).get(ref.project, ref.task) as { attempt: number; log_path: string } | undefined;
  return { ref, attempt: row?.attempt ?? null, path: row?.log_path ?? null };
}

export function readLog(path: string | null, from = 0): string {
  if (!path) return "";
  try {
    return stripTrailer(readFileSync(path).subarray(from).toString("utf8"));
  } catch {
    return "";
  }
}

export interface CleanupReport {
  days: number;
  runs_deleted: number;
  files_deleted: number;
}

/** Deletes run records and log files of finished tasks whose attempt ended more than `days` ago. */
export function cleanup(store: Store, days: number): CleanupReport {
  const cutoff = store.now() - days * 86_400_000;
  const rows = stmt(
    store,
    `SELECT r.id, r.log_path FROM runs r JOIN tasks t ON t.project_id = r.project_id AND t.id = r.task_id
      WHERE r.finished_at IS NOT NULL AND r.finished_at < ? AND t.status IN ('DONE', 'FAILED', 'CANCELLED')`,
  ).all(cutoff) as Array<{ id: number; log_path: string }>;
  let files = 0;
  const dirs = new Set<string>();
  for (const r of rows) {
    for (const p of [r.log_path, r.log_path.replace(/\.log$/, ".prompt")]) {
      try {
        unlinkSync(p);
        files++;
      } catch {
        /* already gone */
      }
    }
    dirs.add(dirname(r.log_path));
  }
  for (const d of dirs) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      /* not empty or gone */
    }
  }
  const del = stmt(store, "DELETE FROM runs WHERE id = ?");
  store.sqlite.transaction(() => {
    for (const r of rows) del.run(r.id);
  }).immediate();
  return { days, runs_deleted: rows.length, files_deleted: files };
}
