/**
 * A number that changes when another connection has committed since this one
 * last looked (its own writes do not move it): a cheap way to know whether a
 * cached picture of the database is stale. SQLite: `PRAGMA data_version`.
 * PostgreSQL: the count of notifications on channel `aipm`, which every
 * change's trigger sends at commit (./pg/pg-conn.ts `changeCount`).
 */
import type { Store } from "./open.js";
import type { PgConn } from "./pg/pg-conn.js";

export function dataVersion(store: Store): number {
  if (store.kind === "postgres") return (store.conn as PgConn).changeCount();
  return store.sqlite.pragma("data_version", { simple: true }) as number;
}
