/**
 * The hosts view (`status --json` key `hosts`, the `hosts:` line, the
 * dashboard's hosts section): every host this database has seen — its
 * labels, last heartbeat, whether it is alive (heartbeat within
 * AIPM_HOST_LEASE_S), the attempts it runs (of the project, or of all) and
 * its last CPU/memory sample. A host that runs attempts but never wrote its
 * row (only possible before its first claim committed) is listed too.
 */
import { numberSetting } from "../config/settings.js";
import { hostRows, runningByHost } from "../store/hosts.js";
import type { Store } from "../store/open.js";

export interface HostJson {
  host: string;
  labels: string[];
  /** Its last heartbeat (ISO), null when never seen. */
  heartbeat_at: string | null;
  /** Heartbeat within the lease: its attempts are its own; past it, other hosts recover them. */
  alive: boolean;
  /** Its attempts in flight (IN_PROGRESS or REVIEW), of the project in scope or of all. */
  running: number;
  cpu_percent: number | null;
  memory_percent: number | null;
  version: string | null;
}

export function hostsView(store: Store, opts: { project?: string | null | undefined; leaseS?: number; now?: number } = {}): HostJson[] {
  const now = opts.now ?? store.now();
  const leaseMs = (opts.leaseS ?? numberSetting(process.env, "AIPM_HOST_LEASE_S")) * 1000;
  const running = runningByHost(store, opts.project);
  const out: HostJson[] = hostRows(store).map((h) => ({
    host: h.host,
    labels: h.labels,
    heartbeat_at: new Date(h.heartbeatAt).toISOString(),
    alive: now - h.heartbeatAt <= leaseMs,
    running: running.get(h.host) ?? 0,
    cpu_percent: h.cpuPercent,
    memory_percent: h.memoryPercent,
    version: h.version,
  }));
  for (const [host, n] of running) {
    if (host === null || out.some((h) => h.host === host)) continue;
    out.push({ host, labels: [], heartbeat_at: null, alive: false, running: n, cpu_percent: null, memory_percent: null, version: null });
  }
  return out.sort((a, b) => a.host.localeCompare(b.host));
}
