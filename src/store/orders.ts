/**
 * Table `orders`, outside a plan import: active (launched and not finished),
 * paused, its stored launch options; ending an order with its event.
 * Pausing and resuming are transitions (./transitions.ts).
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { appendEvent } from "./events.js";

/** Marks the order active under these launch options (JSON). */
export function activateOrder(store: Store, project: string, order: string, launchOptions: string): void {
  stmt(store, "UPDATE orders SET active = TRUE, launch_options = ? WHERE project_id = ? AND id = ?").run(launchOptions, project, order);
}

/** Marks the order active again, keeping its launch options. */
export function reactivateOrder(store: Store, project: string, order: string): void {
  stmt(store, "UPDATE orders SET active = TRUE WHERE project_id = ? AND id = ?").run(project, order);
}

/**
 * Ends an active order with its event (`order_finished` or `order_idle`,
 * with its counts), in one IMMEDIATE transaction; nothing when it was not
 * active any more.
 */
export function endOrder(store: Store, project: string, order: string, kind: "order_finished" | "order_idle", counts: Record<string, number>): void {
  store.conn
    .transaction(() => {
      const changed = stmt(store, "UPDATE orders SET active = FALSE WHERE project_id = ? AND id = ? AND active = TRUE").run(project, order).changes;
      if (changed !== 1) return;
      appendEvent(store, { kind, projectId: project, orderId: order, data: { counts } }, store.now());
    })
    .immediate();
}

/** Whether the order is paused, and its stored launch options (JSON); undefined when there is no such order. */
export function orderLaunchState(store: Store, project: string, order: string): { paused: number; launch_options: string | null } | undefined {
  return stmt(store, "SELECT paused, launch_options FROM orders WHERE project_id = ? AND id = ?").get(project, order) as
    | { paused: number; launch_options: string | null }
    | undefined;
}

/** Paused orders as `project/order`, sorted; of one project or order, or all. */
export function pausedOrders(store: Store, scope: { project?: string | undefined; order?: string | undefined }): string[] {
  return stmt(
    store,
    `SELECT project_id || '/' || id FROM orders WHERE paused = TRUE AND (CAST(@p AS TEXT) IS NULL OR project_id = @p) AND (CAST(@o AS TEXT) IS NULL OR id = @o) ORDER BY 1`,
  )
    .pluck()
    .all({ p: scope.project ?? null, o: scope.order ?? null }) as string[];
}

/** Orders of the project that are active and not paused. */
export function countRunnableOrders(store: Store, project: string): number {
  return stmt(store, "SELECT COUNT(*) FROM orders WHERE project_id = ? AND active = TRUE AND paused = FALSE").pluck().get(project) as number;
}

/** Orders (of one project, or all) that are active or have a task IN_PROGRESS or in REVIEW. */
export function openOrders(store: Store, project?: string): Array<{ project: string; order: string }> {
  return stmt(
    store,
    `SELECT o.project_id AS project, o.id AS "order" FROM orders o
        WHERE (CAST(@project AS TEXT) IS NULL OR o.project_id = @project)
          AND (o.active = TRUE OR EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = o.project_id AND t.order_id = o.id
                                        AND t.status IN ('IN_PROGRESS', 'REVIEW')))`,
  ).all({ project: project ?? null }) as Array<{ project: string; order: string }>;
}

/** When each order was created, keyed `project \0 order`. */
export function orderCreationTimes(store: Store): Map<string, number> {
  return new Map(
    (stmt(store, "SELECT project_id AS p, id AS o, created_at AS c FROM orders").all() as Array<{ p: string; o: string; c: number }>).map((r) => [`${r.p}\0${r.o}`, r.c]),
  );
}

/** The JSON launch options stored with the order (its last launch's limits, or `aipm scale`'s), or null. */
export function orderLaunchOptions(store: Store, project: string, order: string): string | null {
  return (stmt(store, "SELECT launch_options FROM orders WHERE project_id = ? AND id = ?").pluck().get(project, order) as string | null | undefined) ?? null;
}

/** `aipm scale`: the order's new launch options and an `order_scaled` event, in one transaction. */
export function scaleOrder(store: Store, project: string, order: string, launchOptions: string, from: number, to: number): void {
  store.conn.transaction(() => {
    stmt(store, "UPDATE orders SET launch_options = ? WHERE project_id = ? AND id = ?").run(launchOptions, project, order);
    stmt(store, "INSERT INTO events (ts, project_id, order_id, kind, data) VALUES (?, ?, ?, 'order_scaled', ?)").run(
      store.now(),
      project,
      order,
      JSON.stringify({ from, to }),
    );
  }).immediate();
}

/** The project's active orders, oldest first: paused, the plan's `preempt`, stored launch options (JSON). */
export function activeOrders(store: Store, project: string): Array<{ id: string; paused: number; preempt: number; launch_options: string | null }> {
  return stmt(store, "SELECT id, paused, preempt, launch_options FROM orders WHERE project_id = ? AND active = TRUE ORDER BY created_at, id").all(project) as Array<{
    id: string;
    paused: number;
    preempt: number;
    launch_options: string | null;
  }>;
}
