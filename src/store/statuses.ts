/** Task statuses and priorities: plain constants, importable without loading the ORM. */
export const TASK_STATUSES = ["QUEUED", "IN_PROGRESS", "REVIEW", "DONE", "FAILED", "CANCELLED", "SKIPPED"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses a task does not leave by itself (`retry` and a plan's re-import aside). */
export const FINAL_STATUSES: readonly TaskStatus[] = ["DONE", "FAILED", "CANCELLED", "SKIPPED"];

/**
 * A dependency's condition: `success` (the default: it must end DONE),
 * `failure` (run only if it ends FAILED), `always` (once it has ended, however).
 */
export const DEP_CONDITIONS = ["success", "failure", "always"] as const;
export type DepCondition = (typeof DEP_CONDITIONS)[number];

export const PRIORITIES = ["P0", "P1", "P2", "P3"] as const;
export type Priority = (typeof PRIORITIES)[number];
