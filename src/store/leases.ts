/**
 * Table `supervisors`: the supervisor lease of each project — which process
 * (pid and its start time) supervises its running tasks. Whether a holder is
 * still alive is the caller's judgement (`alive`); the store only keeps the row.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface LeaseHolder {
  pid: number;
  procStart: string | null;
}

const HOLDER_SQL = "SELECT pid, proc_start FROM supervisors WHERE project_id = ?";

/** The process recorded as the project's supervisor, alive or not; null when none is. */
export function leaseRow(store: Store, project: string): LeaseHolder | null {
  const row = stmt(store, HOLDER_SQL).get(project) as { pid: number; proc_start: string | null } | undefined;
  return row ? { pid: row.pid, procStart: row.proc_start } : null;
}

/**
 * Takes the lease for `pid` in one IMMEDIATE transaction, unless another
 * process holds it and `alive` says that holder still runs. True when taken.
 */
export function takeLease(
  store: Store,
  project: string,
  me: LeaseHolder,
  alive: (holder: LeaseHolder) => boolean,
): boolean {
  return store.conn
    .transaction(() => {
      const holder = leaseRow(store, project);
      if (holder && holder.pid !== me.pid && alive(holder)) return false;
      const now = store.now();
      stmt(
        store,
        `INSERT INTO supervisors (project_id, pid, proc_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (project_id) DO UPDATE SET pid = excluded.pid, proc_start = excluded.proc_start,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
      ).run(project, me.pid, me.procStart, now, now);
      return true;
    })
    .immediate();
}

/** Renews the lease's heartbeat; false when `pid` no longer holds it. */
export function renewLease(store: Store, project: string, pid: number): boolean {
  return stmt(store, "UPDATE supervisors SET heartbeat_at = ? WHERE project_id = ? AND pid = ?").run(store.now(), project, pid).changes === 1;
}

/** Gives the lease up, if `pid` holds it. */
export function dropLease(store: Store, project: string, pid: number): void {
  stmt(store, "DELETE FROM supervisors WHERE project_id = ? AND pid = ?").run(project, pid);
}
