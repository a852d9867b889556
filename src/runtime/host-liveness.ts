/**
 * Liveness across hosts (docs/hosts.md): a pid means something only on the
 * host that started it, so pid checks judge only this host's attempts; an
 * attempt of another host is judged by that host's heartbeat, renewed by its
 * supervisors every AIPM_HOST_LEASE_S / 3. An attempt whose host has been
 * silent past the lease is recovered here (requeued, the attempt counted);
 * and a host that finds, when it beats again, that it was silent past the
 * lease kills its own processes whose attempts were recovered meanwhile, so
 * that one attempt never runs twice for long.
 */
import type { ThisHost } from "../config/host.js";
import { numberSetting } from "../config/settings.js";
import { beatHost, lostAttempts, recoveredSince } from "../store/hosts.js";
import type { Store } from "../store/open.js";
import { recoverLost } from "../store/transitions.js";
import { packageVersion } from "../util/package-root.js";
import { isAlive, signalGroup } from "./proc.js";

/** AIPM_HOST_LEASE_S (default 60). */
export function hostLeaseS(env: NodeJS.ProcessEnv): number {
  return numberSetting(env, "AIPM_HOST_LEASE_S");
}

/** True when a pid check may judge the attempt: it is this host's (or older than hosts). */
export function isHere(row: { host: string | null }, host: string): boolean {
  return row.host === null || row.host === host;
}

export interface Recovered {
  project: string;
  task: string;
  attempt: number;
  host: string;
  status: string;
}

/** Recovers every attempt (of one project, or all) whose host has been silent past the lease. Safe from any process, any host. */
export function recoverSilentHosts(store: Store, q: { project?: string | undefined; host: string; leaseS: number; backoffS: number }): Recovered[] {
  const out: Recovered[] = [];
  const lost = lostAttempts(store, { project: q.project, host: q.host, cutoff: Math.round(store.now() - q.leaseS * 1000) });
  for (const a of lost) {
    const r = recoverLost(store, {
      project: a.project,
      task: a.task,
      attempt: a.attempt,
      host: a.host,
      by: q.host,
      heartbeatAt: a.heartbeatAt,
      leaseS: q.leaseS,
      backoffS: q.backoffS,
    });
    if (r.ok) out.push({ project: a.project, task: a.task, attempt: a.attempt, host: a.host, status: r.status });
  }
  return out;
}

/**
 * Kills this host's processes whose attempts were closed as crashed since
 * `since` (recovered by another host while this one was silent) and still
 * run. Returns how many were signalled.
 */
export function killRecovered(store: Store, host: string, since: number): number {
  let n = 0;
  for (const p of recoveredSince(store, host, since)) {
    if (!isAlive(p.pid, p.procStart)) continue;
    if (signalGroup(p.pid, "SIGKILL")) n++;
  }
  return n;
}

/** How far back the first look for this host's recovered processes goes (a later look: since the previous one, less a lease). */
const FIRST_LOOK_MS = 7 * 24 * 3600 * 1000;

/** A supervisor's heartbeat for its host: renewed every lease / 3. */
export class HostHeartbeat {
  private last = -Infinity;
  private lookedAt: number | null = null;
  private readonly version = packageVersion();

  constructor(
    private readonly store: Store,
    private readonly host: ThisHost,
    readonly leaseS: number,
  ) {}

  /**
   * Renews the host's row when a third of the lease has passed since the last renewal (or
   * `force`); null when it was not due. Then kills this host's processes whose attempts another
   * host recovered (closed as crashed since the last look) and that still run: `killed`, and the
   * previous heartbeat when it was older than the lease (`silentSince`). The look does not
   * depend on this host's own heartbeat having been stale — a claim or another supervisor of
   * this host may have renewed it first — nor on the order of a recovery and a beat.
   */
  beat(sample: { cpuPercent: number | null; memoryPercent: number | null } | null, force = false): { silentSince: number | null; killed: number } | null {
    const now = this.store.now();
    if (!force && now - this.last < (this.leaseS * 1000) / 3) return null;
    const before = beatHost(
      this.store,
      { host: this.host.name, labels: this.host.labels, cpuPercent: sample?.cpuPercent ?? null, memoryPercent: sample?.memoryPercent ?? null, version: this.version },
      now,
    );
    this.last = now;
    const since = this.lookedAt === null ? now - FIRST_LOOK_MS : this.lookedAt - this.leaseS * 1000;
    const killed = killRecovered(this.store, this.host.name, Math.round(since));
    this.lookedAt = now;
    return { silentSince: before !== null && now - before > this.leaseS * 1000 ? before : null, killed };
  }
}
