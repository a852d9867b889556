/**
 * SQLite's `PRAGMA data_version`: it changes when another connection has
 * committed since this one last looked (its own writes do not move it). A
 * cheap way to know whether a cached picture of the database is stale.
 */
import type { Store } from "./open.js";

export function dataVersion(store: Store): number {
  return store.sqlite.pragma("data_version", { simple: true }) as number;
}
