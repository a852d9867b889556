/**
 * One point of the machine's history: CPU, memory, disk (the database's file
 * system and the fullest project root's), GPUs where present, and the
 * workers auto-scaling gives under the limits in force — and who keeps them.
 *
 * Whoever watches the machine records it: a project's leading supervisor (at
 * each resource sample it takes for scaling anyway) and the dashboard. They
 * share one file (src/store/machine-samples.ts) and one rule: a point is
 * written only when the newest one stored is older than the interval, so two
 * recorders make one history at its interval, not two interleaved ones; the
 * dashboard shows the points others wrote, and samples itself only when
 * nobody else has lately. Charts therefore cover the time an order ran even
 * when no dashboard was open.
 */
import { statfsSync } from "node:fs";
import type { Store } from "../store/open.js";
import { totalmem } from "node:os";
import type { ResourceSample } from "./monitor.js";
import { scaleFor } from "../launch/plan-launch.js";
import type { LaunchOptions } from "../config/launch-options.js";
import { projectRoots, runningCount } from "../store/dashboard-reads.js";
import { openMachineSamples, recentMachineSample, type MachineSampleRow, type MachineSamples } from "../store/machine-samples.js";

/** A point as the charts draw it: a stored sample without the limits then in force. */
export type MachinePoint = Omit<MachineSampleRow, "max_cpu" | "max_memory" | "max_workers">;

/** The machine history's interval: one point per 5 s. */
export const MACHINE_INTERVAL_MS = 5000;
/** Points older than this are dropped. */
export const MACHINE_KEEP_MS = 24 * 3600_000;

/** Used space of the file system holding `path`, in percent (null when it cannot be read). */
export function diskUsedPercent(path: string): number | null {
  try {
    const s = statfsSync(path);
    const total = s.blocks * s.bsize;
    if (total <= 0) return null;
    // Like df: used / (used + available to users).
    const used = (s.blocks - s.bfree) * s.bsize;
    const avail = s.bavail * s.bsize;
    return Math.round((used / (used + avail)) * 1000) / 10;
  } catch {
    return null;
  }
}

function diskOfRoots(store: Store): number | null {
  let max: number | null = null;
  for (const r of projectRoots(store)) {
    const d = diskUsedPercent(r);
    if (d !== null && (max === null || d > max)) max = d;
  }
  return max;
}

/** The point a resource sample makes, under `limits`. */
export function machinePoint(store: Store, s: ResourceSample, limits: LaunchOptions): MachinePoint {
  return {
    t: s.takenAt,
    cpu: s.cpuPercent,
    mem: s.memoryPercent,
    workers: scaleFor(limits, s).effectiveWorkers,
    running: runningCount(store),
    gpu: s.gpus?.length ? Math.max(...s.gpus.map((g) => g.utilization_percent ?? 0)) : null,
    gpu_mem: s.gpus?.length
      ? Math.max(...s.gpus.map((g) => (g.memory_total_mb ? Math.round(((g.memory_used_mb ?? 0) / g.memory_total_mb) * 1000) / 10 : 0)))
      : null,
    disk_db: store.path ? diskUsedPercent(store.dir) : null, // the db folder: on PostgreSQL, this host's .aipm/ (logs)
    disk_root: diskOfRoots(store),
  };
}

/** Writes points to the machine history, at most one per interval whoever writes them. */
export class MachineRecorder {
  private kept: MachineSamples | null | undefined;
  private written = 0;

  constructor(
    private readonly store: Store,
    readonly intervalMs = MACHINE_INTERVAL_MS,
  ) {}

  /** The history's file (null when it cannot be opened: points are then not kept). */
  samples(): MachineSamples | null {
    if (this.kept === undefined) {
      try {
        this.kept = openMachineSamples(this.store);
      } catch {
        this.kept = null;
      }
    }
    return this.kept;
  }

  /** True when a point stored by anyone is younger than the interval (less a tenth, for timers): no need to make one. */
  recentlyRecorded(now: number): boolean {
    const newest = this.samples()?.newest() ?? null;
    return newest !== null && now - newest < this.intervalMs * 0.9;
  }

  /** Records the point unless someone recorded one within the interval; true when it was written. */
  record(point: MachinePoint, limits: LaunchOptions): boolean {
    const kept = this.samples();
    if (!kept) return false;
    try {
      const row: MachineSampleRow = { ...point, max_cpu: limits.maxCpu, max_memory: limits.maxMemory, max_workers: limits.maxWorkers };
      if (!kept.addUnlessRecent(row, this.intervalMs * 0.9)) return false;
      if (this.written++ % 100 === 0) kept.prune(point.t - MACHINE_KEEP_MS);
      return true;
    } catch {
      // Busy or read-only: the point is not kept.
      return false;
    }
  }

  close(): void {
    this.kept?.close();
    this.kept = undefined;
  }
}

/**
 * The machine as a recorder saw it within `maxAgeMs` (a leading supervisor records every 5 s),
 * as a resource sample: a command that only reports (`status`) uses it instead of measuring the
 * CPU over a window of its own. Null when there is none that recent, or when the machine has GPUs
 * (a point keeps their maximum, not each GPU a report lists).
 */
export function recentRecordedSample(store: Store, now: number, maxAgeMs = MACHINE_INTERVAL_MS + 1500): ResourceSample | null {
  const row = recentMachineSample(store, now, maxAgeMs);
  if (!row || row.gpu !== null || row.gpu_mem !== null) return null;
  const total = totalmem();
  return { cpuPercent: row.cpu, memoryPercent: row.mem, memTotalBytes: total, memAvailableBytes: Math.round(total * (1 - row.mem / 100)), takenAt: row.t };
}
