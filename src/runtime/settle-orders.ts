/**
 * Ending orders. An order is finished when none of its tasks is QUEUED (and
 * not blocked), IN_PROGRESS or REVIEW — the condition `aipm wait` waits for.
 * A finished order stops being active and gets one `order_finished` event
 * with its counts. When a supervisor stops because nothing can run any more,
 * orders that are still not finished (waiting on tasks nobody launches) stop
 * being active too, with an `order_idle` event; paused orders stay active.
 */
import type { Store } from "../store/open.js";
import type { ProjectView } from "./project-view.js";
import { endOrder } from "../store/orders.js";

export function orderCounts(view: ProjectView, orderId: string) {
  const counts: Record<string, number> = {};
  let open = 0;
  for (const t of view.tasks.values()) {
    if (t.orderId !== orderId) continue;
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    if (t.status === "IN_PROGRESS" || t.status === "REVIEW" || (t.status === "QUEUED" && !view.blocked.has(t.id))) open++;
  }
  return { counts, open };
}

export function settleOrders(store: Store, view: ProjectView, orderIds: readonly string[], stopping = false): void {
  for (const id of new Set(orderIds)) {
    const order = view.orders.find((o) => o.id === id);
    if (!order) continue;
    const { counts, open } = orderCounts(view, id);
    if (open > 0 && (!stopping || order.paused)) continue;
    const kind = open === 0 ? "order_finished" : "order_idle";
    endOrder(store, view.project, id, kind, counts);
    view.orders = view.orders.filter((o) => o.id !== id);
  }
}
