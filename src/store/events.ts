/**
 * The event log: one row per thing that happened (a task imported, started,
 * finished, retried, a lock conflict resolved...). Notifiers and the
 * dashboard read it; nothing reads it to decide a task's state.
 */
import type { Db } from "./open.js";
import { events } from "./schema.js";

export interface EventInput {
  kind: string;
  projectId?: string | null;
  orderId?: string | null;
  taskId?: string | null;
  attempt?: number | null;
  data?: Record<string, unknown>;
}

export function recordEvent(db: Db, e: EventInput, now: number): void {
  db.insert(events)
    .values({
      ts: now,
      kind: e.kind,
      projectId: e.projectId ?? null,
      orderId: e.orderId ?? null,
      taskId: e.taskId ?? null,
      attempt: e.attempt ?? null,
      data: JSON.stringify(e.data ?? {}),
    })
    .run();
}
