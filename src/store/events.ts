/**
 * Table `events`, the event log: one row per thing that happened (a task
 * imported, started, finished, retried, a lock conflict resolved...).
 * Notifiers and the dashboard read it; nothing reads it to decide a task's
 * state. (The transitions in ./transitions.ts and ./skip-unmeetable.ts write
 * their events inside their own transactions.)
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface EventInput {
  kind: string;
  projectId?: string | null;
  orderId?: string | null;
  taskId?: string | null;
  attempt?: number | null;
  data?: Record<string, unknown>;
}

/** An event as stored (snake_case columns, `data` as JSON text). */
export interface StoredEvent {
  id: number;
  ts: number;
  project_id: string | null;
  order_id: string | null;
  task_id: string | null;
  attempt: number | null;
  kind: string;
  data: string;
}

/** Appends an event (inside a transaction of the same connection, it is part of that transaction). */
export function appendEvent(store: Store, e: EventInput, now: number): void {
  stmt(store, "INSERT INTO events (ts, project_id, order_id, task_id, attempt, kind, data) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
    now,
    e.projectId ?? null,
    e.orderId ?? null,
    e.taskId ?? null,
    e.attempt ?? null,
    e.kind,
    JSON.stringify(e.data ?? {}),
  );
}

/** One `order_reported` event per order, in one IMMEDIATE transaction: a wait reported their ends. */
export function markOrdersReported(store: Store, refs: ReadonlyArray<{ project: string; order: string }>, now: number): void {
  const insert = stmt(store, "INSERT INTO events (ts, project_id, order_id, kind, data) VALUES (?, ?, ?, 'order_reported', '{}')");
  store.conn
    .transaction(() => {
      for (const r of refs) insert.run(now, r.project, r.order);
    })
    .immediate();
}

/** `order_finished`, `order_idle` and `order_reported` events since `since`, oldest first. */
export function orderEndsSince(store: Store, since: number, project?: string): Array<{ project: string; order: string; kind: string }> {
  return stmt(
    store,
    `SELECT project_id AS project, order_id AS "order", kind FROM events
        WHERE ts >= @since AND kind IN ('order_finished', 'order_idle', 'order_reported') AND (CAST(@project AS TEXT) IS NULL OR project_id = @project)
        ORDER BY id`,
  ).all({ since, project: project ?? null }) as Array<{ project: string; order: string; kind: string }>;
}

/** The id of the last event before `ts` (0: none). */
export function lastEventIdBefore(store: Store, ts: number): number {
  return stmt(store, "SELECT COALESCE(MAX(id), 0) FROM events WHERE ts < ?").pluck().get(ts) as number;
}

/** The id of the last event (0: none). */
export function lastEventId(store: Store): number {
  return stmt(store, "SELECT COALESCE(MAX(id), 0) FROM events").pluck().get() as number;
}

const kindLists = new WeakMap<readonly string[], string>();

/** Events after `after` of these kinds, oldest first, at most `limit`. */
export function eventsOfKindsAfter(store: Store, after: number, kinds: readonly string[], limit: number): StoredEvent[] {
  let list = kindLists.get(kinds);
  if (list === undefined) kindLists.set(kinds, (list = kinds.map((k) => `'${k.replace(/'/g, "''")}'`).join(", ")));
  return stmt(store, `SELECT * FROM events WHERE id > ? AND kind IN (${list}) ORDER BY id LIMIT ${Math.trunc(limit)}`).all(after) as StoredEvent[];
}
