/**
 * What changed in an order since the open pages last heard: the server keeps,
 * per order someone watches, the last rows and parts it sent (as rendered,
 * less the running clocks the page advances itself), and on a change in the
 * store sends only the rows that differ, the ids of rows that went, and the
 * parts (header with the counts and KPIs, error trend, workers, locks,
 * failures) that differ. A page applies a row in place, where it is: rows are
 * never re-ordered under the pointer.
 *
 * The page fetches its whole state on every (re)connection (the `hello`
 * event); a delta is always whole rows and whole parts, newer than or equal
 * to what the page holds, so applying it twice or late is harmless.
 */
import type { OrderViewJson } from "./dashboard-data.js";
import { liveSignature, orderParts, taskRow, type OrderParts } from "./render-page.js";

export interface OrderDelta {
  project: string;
  order: string;
  /** Changed rows: [task id, its row's HTML]. */
  rows: Array<[string, string]>;
  /** Tasks no longer in the order. */
  removed: string[];
  /** Tasks new in the order: the page fetches its task list again to place them. */
  added: string[];
  parts: Partial<OrderParts>;
}

export class LiveOrder {
  private rows = new Map<string, string>();
  private parts = new Map<string, string>();
  private primed = false;

  constructor(
    readonly project: string,
    readonly order: string,
  ) {}

  /** The changes since the last call (null when nothing changed); the first call only remembers. */
  diff(v: OrderViewJson): OrderDelta | null {
    const delta: OrderDelta = { project: this.project, order: this.order, rows: [], removed: [], added: [], parts: {} };
    const seen = new Set<string>();
    for (const t of v.tasks) {
      seen.add(t.task);
      const html = taskRow(t);
      const sig = liveSignature(html);
      const prev = this.rows.get(t.task);
      if (prev === sig) continue;
      this.rows.set(t.task, sig);
      if (!this.primed) continue;
      if (prev === undefined) delta.added.push(t.task);
      else delta.rows.push([t.task, html]);
    }
    for (const id of this.rows.keys()) {
      if (!seen.has(id)) {
        this.rows.delete(id);
        delta.removed.push(id);
      }
    }
    const parts = orderParts(v);
    for (const [name, html] of Object.entries(parts) as Array<[keyof OrderParts, string]>) {
      const sig = liveSignature(html);
      if (this.parts.get(name) === sig) continue;
      this.parts.set(name, sig);
      if (this.primed) delta.parts[name] = html;
    }
    const first = !this.primed;
    this.primed = true;
    if (first) return null;
    return delta.rows.length || delta.removed.length || delta.added.length || Object.keys(delta.parts).length ? delta : null;
  }
}
