/**
 * The machine over the last hour, as the dashboard shows it: the points any
 * recorder kept (a project's leading supervisor, or this dashboard when
 * nobody else recorded within the interval — see
 * src/resources/machine-point.ts), the last 24 hours kept in their own file
 * next to the database (src/store/machine-samples.ts), so the charts survive
 * a restart of the dashboard and cover the time an order ran with no
 * dashboard open; a sample never wakes a supervisor.
 */
import type { Store } from "../store/open.js";
import { createResourceMonitor, type ResourceMonitor } from "../resources/monitor.js";
import { LAUNCH_DEFAULTS, type LaunchOptions } from "../config/launch-options.js";
import { activeLaunchOptionsJson, storeIsOpen } from "../store/dashboard-reads.js";
import { MACHINE_INTERVAL_MS, MachineRecorder, machinePoint, type MachinePoint } from "../resources/machine-point.js";

export { diskUsedPercent, type MachinePoint } from "../resources/machine-point.js";

export interface MachineJson {
  interval_s: number;
  max_cpu: number;
  max_memory: number;
  max_workers: number;
  points: MachinePoint[];
}

const SHOW_MS = 3600_000;

export class MachineHistory {
  private points: MachinePoint[] = [];
  private loaded = false;
  private sampling = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly monitor: ResourceMonitor = createResourceMonitor();
  private limits: LaunchOptions = LAUNCH_DEFAULTS;
  private readonly recorder: MachineRecorder;
  onSample: ((p: MachinePoint) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = MACHINE_INTERVAL_MS,
  ) {
    this.recorder = new MachineRecorder(store, intervalMs);
  }

  start(): void {
    this.load();
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.recorder.close();
  }

  private currentLimits(): LaunchOptions {
    const raw = activeLaunchOptionsJson(this.store);
    return raw ? { ...LAUNCH_DEFAULTS, ...(JSON.parse(raw) as Partial<LaunchOptions>) } : LAUNCH_DEFAULTS;
  }

  /** The last hour as stored by any recorder. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    this.adopt(Date.now() - SHOW_MS, false);
  }

  /** Shows the points others stored since `since`; true when one is younger than the interval. */
  private adopt(since: number, announce: boolean): boolean {
    let rows: ReturnType<NonNullable<ReturnType<MachineRecorder["samples"]>>["since"]> = [];
    try {
      rows = this.recorder.samples()?.since(since) ?? [];
    } catch {
      // An older database without the table (read-only): the history starts now.
    }
    for (const { max_cpu, max_memory, max_workers, ...p } of rows) {
      const last = this.points[this.points.length - 1];
      if (last && p.t <= last.t) continue;
      this.points.push(p);
      this.limits = { ...this.limits, maxCpu: max_cpu, maxMemory: max_memory, maxWorkers: max_workers };
      if (announce) this.onSample?.(p);
    }
    this.trim();
    const newest = this.points[this.points.length - 1];
    return newest !== undefined && Date.now() - newest.t < this.intervalMs * 0.9;
  }

  private trim(): void {
    const newest = this.points[this.points.length - 1];
    if (!newest) return;
    while (this.points.length && this.points[0]!.t < newest.t - SHOW_MS) this.points.shift();
  }

  private async sample(): Promise<void> {
    // One at a time: two samples awaiting the monitor's first baseline together would carry the same time.
    if (this.sampling) return;
    this.sampling = true;
    try {
      if (!storeIsOpen(this.store) || this.timer === null) return;
      // A supervisor recorded the machine within the interval: show its points, take none.
      if (this.adopt((this.points[this.points.length - 1]?.t ?? Date.now() - SHOW_MS) + 1, true)) return;
      const s = await this.monitor.sample();
      if (!storeIsOpen(this.store) || this.timer === null) return;
      this.limits = this.currentLimits();
      const p = machinePoint(this.store, s, this.limits);
      const last = this.points[this.points.length - 1];
      if (last && p.t <= last.t) return;
      this.points.push(p);
      this.trim();
      this.recorder.record(p, this.limits);
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

