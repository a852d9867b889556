/** Task statuses and priorities: plain constants, importable without loading the ORM. */
export const TASK_STATUSES = ["QUEUED", "IN_PROGRESS", "REVIEW", "DONE", "FAILED", "CANCELLED"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const PRIORITIES = ["P0", "P1", "P2", "P3"] as const;
export type Priority = (typeof PRIORITIES)[number];
