/**
 * Several writes in one IMMEDIATE transaction: each transition called inside
 * runs as a savepoint of it, and nothing is committed (nor may be acted on)
 * before the whole batch is. The supervisor records the ends and pids that
 * arrive together this way: one lock and one WAL commit instead of one each.
 */
import type { Store } from "./open.js";

export function writeBatch<T>(store: Store, fn: () => T): T {
  return store.conn.transaction(fn).immediate();
}
