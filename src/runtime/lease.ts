/**
 * The supervisor lease: which aipm process supervises a project's running
 * tasks and launches their successors. Held in the `supervisors` table as a
 * pid and its start time (src/store/leases.ts); a lease whose process is gone
 * (or whose pid was reused) is taken over at once, with no stale timeout to
 * wait out.
 */
import type { Store } from "../store/open.js";
import { dropLease, leaseRow, renewLease, takeLease } from "../store/leases.js";
import { isAlive, procStartTime } from "./proc.js";

export function leaseHolder(store: Store, project: string): number | null {
  const row = leaseRow(store, project);
  return row && isAlive(row.pid, row.procStart) ? row.pid : null;
}

/** Takes the lease for this process when it is free or its holder is gone. */
export function acquireLease(store: Store, project: string, pid = process.pid): boolean {
  const me = procStartTime(pid);
  return takeLease(store, project, { pid, procStart: me }, (h) => isAlive(h.pid, h.procStart));
}

export function heartbeatLease(store: Store, project: string, pid = process.pid): boolean {
  return renewLease(store, project, pid);
}

export function releaseLease(store: Store, project: string, pid = process.pid): void {
  dropLease(store, project, pid);
}
