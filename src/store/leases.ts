/**
 * Table `supervisors`: the supervisor lease of each project on each host —
 * which process (pid and its start time) supervises its running tasks there.
 * Whether a holder is still alive is the caller's judgement (`alive`: a pid
 * means something only on its own host, and a lease is only ever judged by
 * its own host); the store only keeps the row.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface LeaseHolder {
  pid: number;
  procStart: string | null;
}

const HOLDER_SQL = "SELECT pid, proc_start FROM supervisors WHERE project_id = ? AND host = ?";

/** The process recorded as the project's supervisor on `host`, alive or not; null when none is. */
export function leaseRow(store: Store, project: string, host: string): LeaseHolder | null {
  const row = stmt(store, HOLDER_SQL).get(project, host) as { pid: number; proc_start: string | null } | undefined;
  return row ? { pid: row.pid, procStart: row.proc_start } : null;
}

/**
 * Takes the lease for `pid` on `host` in one IMMEDIATE transaction, unless
 * another process holds it and `alive` says that holder still runs. True when taken.
 */
export function takeLease(
  store: Store,
  project: string,
  host: string,
  me: LeaseHolder,
  alive: (holder: LeaseHolder) => boolean,
): boolean {
  return store.conn
    .transaction(() => {
      const holder = leaseRow(store, project, host);
      if (holder && holder.pid !== me.pid && alive(holder)) return false;
      const now = store.now();
      stmt(
        store,
        `INSERT INTO supervisors (project_id, host, pid, proc_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (project_id, host) DO UPDATE SET pid = excluded.pid, proc_start = excluded.proc_start,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      ).run(project, host, me.pid, me.procStart, now, now);
      return true;
    })
    .immediate();
}

/** Renews the lease's heartbeat; false when `pid` no longer holds it. */
export function renewLease(store: Store, project: string, host: string, pid: number): boolean {
  return (
    stmt(store, "UPDATE supervisors SET heartbeat_at = ? WHERE project_id = ? AND host = ? AND pid = ?").run(store.now(), project, host, pid).changes === 1
  );
}

/** Gives the lease up, if `pid` holds it. */
export function dropLease(store: Store, project: string, host: string, pid: number): void {
  stmt(store, "DELETE FROM supervisors WHERE project_id = ? AND host = ? AND pid = ?").run(project, host, pid);
}
