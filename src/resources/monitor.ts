/**
 * Samples machine CPU and memory use via `systeminformation`.
 *
 * CPU: `si.currentLoad()` reports the load since its *previous* call (state is
 * kept inside systeminformation). The first call after start has no previous
 * point, so it returns a cumulative since-boot figure, i.e. only a baseline.
 * A monitor's first sample therefore calls it, waits BASELINE_MS (> the 200 ms
 * window in which systeminformation returns its cached result), and uses the
 * second value. Later samples call it once (load since the previous sample).
 *
 * Memory: percent = (total - available) / total * 100. `available` excludes
 * reclaimable page cache / buffers; systeminformation's `used` includes them
 * and would make an idle machine with a warm cache look full.
 *
 * GPUs (NVIDIA, through nvidia-smi): utilisation and memory, only when present.
 *
 * Percentages are rounded to one decimal.
 */
import type { Systeminformation } from "systeminformation";

type SI = {
  currentLoad(): Promise<Systeminformation.CurrentLoadData>;
  mem(): Promise<Systeminformation.MemData>;
};
// Loaded on the first sample only: commands that do not measure start faster.
let siModule: Promise<SI> | null = null;
const loadSi = (): Promise<SI> => (siModule ??= import("systeminformation").then((m) => m.default as SI));
import type { ScalingDecision } from "./scaling.js";
import { sampleGpus, type GpuSample } from "./gpu.js";

export interface ResourceSample {
  cpuPercent: number;
  memoryPercent: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  takenAt: number /* epoch ms */;
  /** NVIDIA GPUs, when there are some. */
  gpus?: GpuSample[];
}

export interface ResourceMonitor {
  sample(): Promise<ResourceSample>;
}

const BASELINE_MS = 250;

const round1 = (x: number): number => Math.round(x * 10) / 10;
const clampPct = (x: number): number => (Number.isFinite(x) ? Math.min(100, Math.max(0, x)) : 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createResourceMonitor(opts?: { now?: () => number }): ResourceMonitor {
  const now = opts?.now ?? Date.now;
  let baseline: Promise<unknown> | null = null;

  return {
    async sample(): Promise<ResourceSample> {
      // Shared so concurrent first samples take a single baseline; retried if it failed.
      const si = await loadSi();
      baseline ??= si.currentLoad().then(() => sleep(BASELINE_MS));
      try {
        await baseline;
      } catch (err) {
        baseline = null;
        throw err;
      }
      const [load, mem, gpus] = await Promise.all([si.currentLoad(), si.mem(), sampleGpus()]);
      const total = mem.total;
      const available = Math.min(mem.available, total);
      const memPct = total > 0 ? ((total - available) / total) * 100 : 0;
      return {
        cpuPercent: round1(clampPct(load.currentLoad)),
        memoryPercent: round1(clampPct(memPct)),
        memTotalBytes: total,
        memAvailableBytes: available,
        takenAt: now(),
        ...(gpus.length ? { gpus } : {}),
      };
    },
  };
}

export function toResourcesJson(
  sample: ResourceSample | null,
  decision: ScalingDecision,
): { monitoring: boolean; cpu_percent: number | null; memory_percent: number | null; healthy: boolean; gpus?: GpuSample[] } {
  if (sample === null) {
    return { monitoring: false, cpu_percent: null, memory_percent: null, healthy: true };
  }
  return {
    monitoring: true,
    cpu_percent: sample.cpuPercent,
    memory_percent: sample.memoryPercent,
    healthy: decision.healthy,
    ...(sample.gpus?.length ? { gpus: sample.gpus } : {}),
  };
}
