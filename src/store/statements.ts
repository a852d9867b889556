/** Prepared statements cached per connection: prepare once, run many times. */
import type Database from "better-sqlite3";
import type { Store } from "./open.js";

const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function stmt(store: Store, sql: string): Database.Statement {
  let cache = caches.get(store.sqlite);
  if (!cache) {
    cache = new Map();
    caches.set(store.sqlite, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = store.sqlite.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
