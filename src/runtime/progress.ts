/**
 * `aipm progress DONE/TOTAL [LABEL]`, the library side: a worker — agent or
 * command — sets its task's progress and current item. The task is the one
 * aipm started the worker for (AIPM_PROJECT, AIPM_TASK, AIPM_ATTEMPT); the
 * write is guarded by that attempt still running, so a late call from a
 * finished attempt changes nothing.
 */
import type { Store } from "../store/open.js";
import { recordProgress } from "../store/task-progress.js";
import { failedError, usageError } from "../errors.js";

export interface ProgressInput {
  project: string;
  task: string;
  /** The worker's attempt; null: whichever attempt is running. */
  attempt: number | null;
  done: number;
  total: number;
  label: string | null;
}

const LABEL_MAX = 200;

/** Parses `3/10`. */
export function parseProgress(text: string): { done: number; total: number } {
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (!m) throw usageError(`progress: expected DONE/TOTAL such as 3/10, got '${text.slice(0, 40)}'`);
  const done = Number(m[1]);
  const total = Number(m[2]);
  if (total < 1 || done > total) throw usageError(`progress: expected 0 <= DONE <= TOTAL and TOTAL >= 1, got ${done}/${total}`);
  return { done, total };
}

export function reportProgress(store: Store, p: ProgressInput): void {
  const label = p.label === null ? null : p.label.replace(/\s+/g, " ").trim().slice(0, LABEL_MAX) || null;
  const recorded = recordProgress(store, { project: p.project, task: p.task, attempt: p.attempt, done: p.done, total: p.total, label });
  if (!recorded) {
    throw failedError(`progress: task ${p.task} of project ${p.project}${p.attempt !== null ? ` (attempt ${p.attempt})` : ""} is not running: nothing recorded`);
  }
}
