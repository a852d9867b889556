/**
 * The machine over the last hour, sampled by the dashboard's server every
 * 5 s (a ring of 720 points): CPU, memory, GPUs where present, and the
 * effective workers auto-scaling would give under the limits of the active
 * orders (or the defaults), with those limits — the thresholds the charts draw.
 */
import type { Store } from "../store/open.js";
import { createResourceMonitor, type ResourceMonitor } from "../resources/monitor.js";
import { scaleFor } from "../launch/plan-launch.js";
import { LAUNCH_DEFAULTS, type LaunchOptions } from "../config/launch-options.js";
import { stmt } from "../store/statements.js";

export interface MachinePoint {
  t: number;
  cpu: number;
  mem: number;
  workers: number;
  running: number;
  gpu: number | null;
}

export interface MachineJson {
  interval_s: number;
  max_cpu: number;
  max_memory: number;
  max_workers: number;
  points: MachinePoint[];
}

const INTERVAL_MS = 5000;
const KEEP = 720;

export class MachineHistory {
  private readonly points: MachinePoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly monitor: ResourceMonitor = createResourceMonitor();
  private limits: LaunchOptions = LAUNCH_DEFAULTS;
  onSample: ((p: MachinePoint) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = INTERVAL_MS,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private currentLimits(): LaunchOptions {
    const raw = stmt(this.store, "SELECT launch_options FROM orders WHERE active = 1 AND launch_options IS NOT NULL ORDER BY created_at LIMIT 1")
      .pluck()
      .get() as string | undefined;
    return raw ? { ...LAUNCH_DEFAULTS, ...(JSON.parse(raw) as Partial<LaunchOptions>) } : LAUNCH_DEFAULTS;
  }

  private async sample(): Promise<void> {
    try {
      const s = await this.monitor.sample();
      if (!this.store.sqlite.open || this.timer === null) return;
      this.limits = this.currentLimits();
      const running = stmt(this.store, "SELECT COUNT(*) FROM tasks WHERE status IN ('IN_PROGRESS', 'REVIEW')").pluck().get() as number;
      const p: MachinePoint = {
        t: s.takenAt,
        cpu: s.cpuPercent,
        mem: s.memoryPercent,
        workers: scaleFor(this.limits, s).effectiveWorkers,
        running,
        gpu: s.gpus?.length ? Math.max(...s.gpus.map((g) => g.utilization_percent ?? 0)) : null,
      };
      this.points.push(p);
      if (this.points.length > KEEP) this.points.shift();
      this.onSample?.(p);
    } catch {
      // A failed sample leaves a gap in the charts.
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

