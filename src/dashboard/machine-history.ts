/**
 * The machine over the last hour, sampled by the dashboard's server every
 * 5 s: CPU, memory, disk (the database's file system and the fullest project
 * root's), GPUs where present (utilisation and memory), and the effective
 * workers auto-scaling would give under the limits of the active orders (or
 * the defaults), with those limits — the thresholds the charts draw.
 *
 * Samples are stored (the last 24 hours kept) in their own file next to the
 * database (src/store/machine-samples.ts), so the charts survive a restart
 * of the dashboard and a sample never wakes a supervisor; a read-only or busy
 * file only costs the sample its persistence.
 */
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../store/open.js";
import { createResourceMonitor, type ResourceMonitor } from "../resources/monitor.js";
import { scaleFor } from "../launch/plan-launch.js";
import { LAUNCH_DEFAULTS, type LaunchOptions } from "../config/launch-options.js";
import { activeLaunchOptionsJson, projectRoots, runningCount, storeIsOpen } from "../store/dashboard-reads.js";
import { openMachineSamples, type MachineSamples } from "../store/machine-samples.js";

export interface MachinePoint {
  t: number;
  cpu: number;
  mem: number;
  workers: number;
  running: number;
  gpu: number | null;
  gpu_mem: number | null;
  disk_db: number | null;
  disk_root: number | null;
}

export interface MachineJson {
  interval_s: number;
  max_cpu: number;
  max_memory: number;
  max_workers: number;
  points: MachinePoint[];
}

const INTERVAL_MS = 5000;
const SHOW_MS = 3600_000;
const KEEP_MS = 24 * 3600_000;

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

export class MachineHistory {
  private points: MachinePoint[] = [];
  private loaded = false;
  private samples = 0;
  private sampling = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly monitor: ResourceMonitor = createResourceMonitor();
  private limits: LaunchOptions = LAUNCH_DEFAULTS;
  private kept: MachineSamples | null = null;
  onSample: ((p: MachinePoint) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = INTERVAL_MS,
  ) {}

  start(): void {
    try {
      this.kept ??= openMachineSamples(this.store);
    } catch {
      // Samples are shown, not kept.
    }
    this.load();
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.kept?.close();
    this.kept = null;
  }

  private currentLimits(): LaunchOptions {
    const raw = activeLaunchOptionsJson(this.store);
    return raw ? { ...LAUNCH_DEFAULTS, ...(JSON.parse(raw) as Partial<LaunchOptions>) } : LAUNCH_DEFAULTS;
  }

  /** The last hour as stored by this or an earlier dashboard. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const rows = this.kept?.since(Date.now() - SHOW_MS) ?? [];
      this.points = rows.map(({ max_cpu: _c, max_memory: _m, max_workers: _w, ...p }) => p);
    } catch {
      // An older database without the table (read-only): the history starts now.
    }
  }

  private persist(p: MachinePoint): void {
    try {
      if (!this.kept) return;
      this.kept.add({ ...p, max_cpu: this.limits.maxCpu, max_memory: this.limits.maxMemory, max_workers: this.limits.maxWorkers });
      if (this.samples++ % 100 === 0) this.kept.prune(p.t - KEEP_MS);
    } catch {
      // Busy or read-only: the sample is shown, not kept.
    }
  }

  private diskOfRoots(): number | null {
    const roots = projectRoots(this.store);
    let max: number | null = null;
    for (const r of roots) {
      const d = diskUsedPercent(r);
      if (d !== null && (max === null || d > max)) max = d;
    }
    return max;
  }

  private async sample(): Promise<void> {
    // One at a time: two samples awaiting the monitor's first baseline together would carry the same time.
    if (this.sampling) return;
    this.sampling = true;
    try {
      const s = await this.monitor.sample();
      if (!storeIsOpen(this.store) || this.timer === null) return;
      this.limits = this.currentLimits();
      const running = runningCount(this.store);
      const p: MachinePoint = {
        t: s.takenAt,
        cpu: s.cpuPercent,
        mem: s.memoryPercent,
        workers: scaleFor(this.limits, s).effectiveWorkers,
        running,
        gpu: s.gpus?.length ? Math.max(...s.gpus.map((g) => g.utilization_percent ?? 0)) : null,
        gpu_mem: s.gpus?.length
          ? Math.max(...s.gpus.map((g) => (g.memory_total_mb ? Math.round(((g.memory_used_mb ?? 0) / g.memory_total_mb) * 1000) / 10 : 0)))
          : null,
        disk_db: this.store.path ? diskUsedPercent(dirname(this.store.path)) : null,
        disk_root: this.diskOfRoots(),
      };
      const last = this.points[this.points.length - 1];
      if (last && p.t <= last.t) return;
      this.points.push(p);
      while (this.points.length && this.points[0]!.t < p.t - SHOW_MS) this.points.shift();
      this.persist(p);
      this.onSample?.(p);
    } catch {
      // A failed sample leaves a gap in the charts.
    } finally {
      this.sampling = false;
    }
  }

  json(): MachineJson {
    return {
      interval_s: this.intervalMs / 1000,
      max_cpu: this.limits.maxCpu,
      max_memory: this.limits.maxMemory,
      max_workers: this.limits.maxWorkers,
      points: [...this.points],
    };
  }
}

