/** Prepared statements cached per connection: prepare once, run many times. */
import type { Store } from "./open.js";
import type { SqlConn, SqlStatement } from "./sql-conn.js";

const caches = new WeakMap<SqlConn, Map<string, SqlStatement>>();

export function stmt(store: Store, sql: string): SqlStatement {
  let cache = caches.get(store.conn);
  if (!cache) {
    cache = new Map();
    caches.set(store.conn, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = store.conn.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
