/**
 * The supervisor lease: which aipm process supervises a project's running
 * tasks and launches their successors. Held in the `supervisors` table as a
 * pid and its start time; a lease whose process is gone (or whose pid was
 * reused) is taken over at once, with no stale timeout to wait out.
 */
import type { Store } from "../store/open.js";
import { isAlive, procStartTime } from "./proc.js";

interface LeaseRow {
  pid: number;
  proc_start: string | null;
}

export function leaseHolder(store: Store, project: string): number | null {
  const row = store.sqlite.prepare("SELECT pid, proc_start FROM supervisors WHERE project_id = ?").get(project) as
    | LeaseRow
    | undefined;
  return row && isAlive(row.pid, row.proc_start) ? row.pid : null;
}

/** Takes the lease for this process when it is free or its holder is gone. */
export function acquireLease(store: Store, project: string, pid = process.pid): boolean {
  const me = procStartTime(pid);
  return store.sqlite
    .transaction(() => {
      const row = store.sqlite.prepare("SELECT pid, proc_start FROM supervisors WHERE project_id = ?").get(project) as
        | LeaseRow
        | undefined;
      if (row && row.pid !== pid && isAlive(row.pid, row.proc_start)) return false;
      const now = store.now();
      store.sqlite
        .prepare(
          `INSERT INTO supervisors (project_id, pid, proc_start, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (project_id) DO UPDATE SET pid = excluded.pid, proc_start = excluded.proc_start,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
        )
        .run(project, pid, me, now, now);
      return true;
    })
    .immediate();
}

export function heartbeatLease(store: Store, project: string, pid = process.pid): boolean {
  return (
    store.sqlite
      .prepare("UPDATE supervisors SET heartbeat_at = ? WHERE project_id = ? AND pid = ?")
      .run(store.now(), project, pid).changes === 1
  );
}

export function releaseLease(store: Store, project: string, pid = process.pid): void {
  store.sqlite.prepare("DELETE FROM supervisors WHERE project_id = ? AND pid = ?").run(project, pid);
}
