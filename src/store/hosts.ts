/**
 * Table `hosts` (docs/hosts.md): each host's heartbeat, labels and last
 * resource sample, renewed by its supervisors every AIPM_HOST_LEASE_S / 3
 * and by its claims; and the reads that judge hosts by it — the attempts of
 * hosts silent past the lease, and how many attempts each host runs. Every
 * statement here is written to run unchanged on SQLite and PostgreSQL.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export interface HostBeat {
  host: string;
  labels: readonly string[];
  /** The host's last resource sample (percent), when one was measured: kept otherwise. */
  cpuPercent?: number | null;
  memoryPercent?: number | null;
  version?: string | null;
}

/**
 * Renews the host's row (created when first seen) and returns the heartbeat
 * it had before: null when the host was unknown. A caller that finds the
 * previous one older than the lease knows that other hosts may have
 * recovered its attempts meanwhile.
 */
export function beatHost(store: Store, b: HostBeat, now = store.now()): number | null {
  const before = stmt(store, "SELECT heartbeat_at FROM hosts WHERE host = ?").pluck().get(b.host) as number | undefined;
  stmt(
    store,
    `INSERT INTO hosts (host, labels, heartbeat_at, started_at, cpu_percent, memory_percent, version)
     VALUES (@host, @labels, @now, @now, @cpu, @memory, @version)
     ON CONFLICT (host) DO UPDATE SET labels = excluded.labels, heartbeat_at = excluded.heartbeat_at,
       cpu_percent = COALESCE(excluded.cpu_percent, hosts.cpu_percent),
       memory_percent = COALESCE(excluded.memory_percent, hosts.memory_percent),
       version = COALESCE(excluded.version, hosts.version)`,
  ).run({
    host: b.host,
    labels: JSON.stringify(b.labels),
    now,
    cpu: b.cpuPercent ?? null,
    memory: b.memoryPercent ?? null,
    version: b.version ?? null,
  });
  return before ?? null;
}

export interface HostRow {
  host: string;
  labels: string[];
  heartbeatAt: number;
  startedAt: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  version: string | null;
}

/** Every host this database has seen, by name. */
export function hostRows(store: Store): HostRow[] {
  const rows = stmt(
    store,
    `SELECT host, labels, heartbeat_at AS "heartbeatAt", started_at AS "startedAt", cpu_percent AS "cpuPercent",
            memory_percent AS "memoryPercent", version
       FROM hosts ORDER BY host`,
  ).all() as Array<Omit<HostRow, "labels"> & { labels: string }>;
  return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as string[] }));
}

/** A host's last heartbeat (epoch ms), or null when it never wrote its row. */
export function hostHeartbeatAt(store: Store, host: string): number | null {
  return (stmt(store, "SELECT heartbeat_at FROM hosts WHERE host = ?").pluck().get(host) as number | undefined) ?? null;
}

/** An attempt in flight (IN_PROGRESS or REVIEW) whose host has been silent past the lease. */
export interface LostAttempt {
  project: string;
  order: string;
  task: string;
  attempt: number;
  host: string;
  /** The host's last heartbeat; null when it has no row (then judged from the attempt's start). */
  heartbeatAt: number | null;
  startedAt: number;
}

/**
 * The attempts in flight (of one project, or all) of hosts other than
 * `host` whose last heartbeat — or, for a host never seen, the attempt's
 * start — is older than `cutoff`. Attempts with no host (recorded before
 * hosts) count as this host's and are never listed.
 */
export function lostAttempts(store: Store, q: { project?: string | undefined; host: string; cutoff: number }): LostAttempt[] {
  return stmt(
    store,
    `SELECT t.project_id AS project, t.order_id AS "order", t.id AS task, t.attempt, r.host, h.heartbeat_at AS "heartbeatAt",
            r.started_at AS "startedAt"
       FROM tasks t JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
       LEFT JOIN hosts h ON h.host = r.host
      WHERE t.status IN ('IN_PROGRESS', 'REVIEW') AND (CAST(@project AS TEXT) IS NULL OR t.project_id = @project)
        AND r.host IS NOT NULL AND r.host <> @host AND COALESCE(h.heartbeat_at, r.started_at) < @cutoff
      ORDER BY t.seq`,
  ).all({ project: q.project ?? null, host: q.host, cutoff: q.cutoff }) as LostAttempt[];
}

/** Attempts in flight (IN_PROGRESS or REVIEW) of the project on `host`, those with no host (older than hosts, or no run) included. */
export function runningOnHost(store: Store, project: string, host: string): number {
  return stmt(
    store,
    `SELECT COUNT(*) FROM tasks t LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE t.project_id = ? AND t.status IN ('IN_PROGRESS', 'REVIEW') AND (r.host = ? OR r.host IS NULL)`,
  )
    .pluck()
    .get(project, host) as number;
}

/** Attempts in flight per host (of one project, or all; a null host: recorded before hosts). */
export function runningByHost(store: Store, project?: string | null): Map<string | null, number> {
  const rows = stmt(
    store,
    `SELECT r.host, COUNT(*) AS n FROM tasks t LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE (CAST(@project AS TEXT) IS NULL OR t.project_id = @project) AND t.status IN ('IN_PROGRESS', 'REVIEW') GROUP BY r.host`,
  ).all({ project: project ?? null }) as Array<{ host: string | null; n: number }>;
  return new Map(rows.map((r) => [r.host, r.n]));
}

/** A process of `host` whose attempt another host recovered since `since` (its worker, or its review process). */
export interface RecoveredProcess {
  project: string;
  task: string;
  attempt: number;
  pid: number;
  procStart: string | null;
}

/**
 * The processes recorded for `host`'s attempts that were closed as crashed
 * since `since` — the ones another host may have recovered while this host
 * was silent. The caller kills those still alive (their start time matching).
 */
export function recoveredSince(store: Store, host: string, since: number): RecoveredProcess[] {
  return stmt(
    store,
    `SELECT project_id AS project, task_id AS task, attempt, pid, proc_start AS "procStart" FROM runs
      WHERE host = @host AND outcome = 'crashed' AND finished_at >= @since AND pid IS NOT NULL
     UNION ALL
     SELECT project_id AS project, task_id AS task, attempt, review_pid AS pid, review_proc_start AS "procStart" FROM runs
      WHERE host = @host AND outcome = 'crashed' AND finished_at >= @since AND review_pid IS NOT NULL`,
  ).all({ host, since }) as RecoveredProcess[];
}

/** The host that claimed an attempt; null when none was recorded (older than hosts) or it has no run. */
export function attemptHost(store: Store, project: string, task: string, attempt: number): string | null {
  return (stmt(store, "SELECT host FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?").pluck().get(project, task, attempt) as string | null | undefined) ?? null;
}
