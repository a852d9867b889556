/**
 * The supervisor lease: which aipm process supervises a project's running
 * tasks on this host and launches their successors (one per project and
 * host: several hosts share a queue, docs/hosts.md). Held in the
 * `supervisors` table as a pid and its start time (src/store/leases.ts); a
 * lease whose process is gone (or whose pid was reused) is taken over at
 * once, with no stale timeout to wait out — judged only by its own host,
 * where the pid means something.
 */
import type { Store } from "../store/open.js";
import { dropLease, leaseRow, renewLease, takeLease } from "../store/leases.js";
import { isAlive, procStartTime } from "./proc.js";

export function leaseHolder(store: Store, project: string, host: string): number | null {
  const row = leaseRow(store, project, host);
  return row && isAlive(row.pid, row.procStart) ? row.pid : null;
}

/** Takes the lease on `host` for this process when it is free or its holder is gone. */
export function acquireLease(store: Store, project: string, host: string, pid = process.pid): boolean {
  const me = procStartTime(pid);
  return takeLease(store, project, host, { pid, procStart: me }, (h) => isAlive(h.pid, h.procStart));
}

export function heartbeatLease(store: Store, project: string, host: string, pid = process.pid): boolean {
  return renewLease(store, project, host, pid);
}

export function releaseLease(store: Store, project: string, host: string, pid = process.pid): void {
  dropLease(store, project, host, pid);
}
