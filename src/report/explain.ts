/**
 * Why a task is (not) running — a minimal stand-in for `aipm explain`
 * (issue 13 replaces this file with the full chain of reasons): its status,
 * its dependencies that are not DONE, a lock another task holds on its files,
 * its backoff, its order's pause, a failed dependency that blocks it.
 */
import type { Store } from "../store/open.js";
import { stmt } from "../store/statements.js";
import { getOrder, loadProjectTasks } from "../store/read-project.js";
import { findBlocked } from "../detect/select.js";
import { firstConflict } from "../paths/conflicts.js";
import { notFound } from "../errors.js";
import { listLocks } from "./status.js";

export interface Explanation {
  project: string;
  task: string;
  status: string;
  /** One short line per reason, root cause last; empty when nothing holds it back. */
  reasons: string[];
}

export function explainTask(store: Store, r: { project: string; task: string }): Explanation {
  const tasks = loadProjectTasks(store, r.project);
  const t = tasks.get(r.task);
  if (!t) throw notFound.task(r.task, r.project);
  const reasons: string[] = [];
  const row = stmt(store, "SELECT failure_kind, error FROM tasks WHERE project_id = ? AND id = ?").get(r.project, r.task) as {
    failure_kind: string | null;
    error: string | null;
  };
  if (t.status === "FAILED" || t.status === "CANCELLED") reasons.push(`${t.status}${row.failure_kind ? ` (${row.failure_kind})` : ""}: ${row.error ?? "no error recorded"}`);
  if (t.status === "QUEUED") {
    if (getOrder(store, r.project, t.orderId).paused) reasons.push(`order ${t.orderId} is paused`);
    const blockedBy = findBlocked(tasks).get(t.id);
    if (blockedBy) reasons.push(`blocked: dependency ${blockedBy} is ${tasks.get(blockedBy)?.status ?? "missing"}`);
    for (const d of t.deps) {
      const dep = tasks.get(d);
      if (dep && dep.status !== "DONE") reasons.push(`waits for ${d} (${dep.status})`);
    }
    if (t.retryAt !== null && t.retryAt > store.now()) reasons.push(`backoff until ${new Date(t.retryAt).toISOString()}`);
    for (const l of listLocks(store, r.project)) {
      if (l.task !== t.id && firstConflict(t.targetFiles, [l.file])) {
        reasons.push(`${l.file} is locked by ${l.task}`);
        break;
      }
    }
  }
  return { project: r.project, task: t.id, status: t.status, reasons };
}
