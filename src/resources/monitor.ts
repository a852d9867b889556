/**
 * Samples machine CPU and memory use.
 *
 * CPU: the share of CPU time not idle across all CPUs between two readings of
 * the kernel's counters (/proc/stat on Linux: user, nice, system, irq,
 * softirq and steal are busy, idle and iowait are not; os.cpus() elsewhere).
 * A monitor reads them when it is created; its first sample waits until
 * WINDOW_MS have passed since (a command that reads the database meanwhile
 * waits less), and each later sample measures since the previous one (a
 * sample asked for sooner than WINDOW_MS after it repeats its figure).
 * Reading the counters costs ~0.1 ms. (systeminformation's currentLoad(), used
 * before, took ~35 ms to load, waited 500 ms on its first call on top of our
 * own baseline wait, and ran `cat /proc/stat | grep cpu` through a shell at
 * every call: `aipm status` spent ~0.8 s in it.)
 *
 * Memory: percent = (total - available) / total * 100. `available` excludes
 * reclaimable page cache / buffers (Linux: MemAvailable, which os.freemem()
 * reads); a figure that includes them would make an idle machine with a warm
 * cache look full. Elsewhere systeminformation's mem().available.
 *
 * GPUs (NVIDIA, through nvidia-smi): utilisation and memory, only when present.
 *
 * Percentages are rounded to one decimal.
 */
import { cpus, freemem, platform, totalmem } from "node:os";
import { readFileSync } from "node:fs";
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

/** CPU time so far, summed over all CPUs (any unit): busy and total. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Where a monitor reads the machine (tests give their own). */
export interface MachineSource {
  cpuTimes(): CpuTimes;
  memory(): Promise<{ total: number; available: number }>;
}

/** The shortest CPU window a sample measures, in ms. */
export const WINDOW_MS = 250;

const round1 = (x: number): number => Math.round(x * 10) / 10;
const clampPct = (x: number): number => (Number.isFinite(x) ? Math.min(100, Math.max(0, x)) : 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function procStatTimes(): CpuTimes | null {
  try {
    const text = readFileSync("/proc/stat", "utf8");
    const line = text.slice(0, text.indexOf("\n"));
    if (!line.startsWith("cpu ")) return null;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return null;
    const idle = f[3]! + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

const linux = platform() === "linux";

export const MACHINE: MachineSource = {
  cpuTimes: () => (linux ? procStatTimes() : null) ?? osCpuTimes(),
  async memory() {
    if (linux) return { total: totalmem(), available: freemem() };
    const si = (await import("systeminformation")).default;
    const m = await si.mem();
    return { total: m.total, available: m.available };
  },
};

export function createResourceMonitor(opts?: { now?: () => number; source?: MachineSource }): ResourceMonitor {
  const now = opts?.now ?? Date.now;
  const source = opts?.source ?? MACHINE;
  let last = { times: source.cpuTimes(), at: performance.now() };
  let lastPercent: number | null = null;
  let pending: Promise<ResourceSample> | null = null;

  async function take(): Promise<ResourceSample> {
    const wait = WINDOW_MS - (performance.now() - last.at);
    if (lastPercent === null && wait > 0) await sleep(wait);
    let cpu = lastPercent;
    if (cpu === null || performance.now() - last.at >= WINDOW_MS) {
      const times = source.cpuTimes();
      const dt = times.total - last.times.total;
      cpu = dt > 0 ? ((times.busy - last.times.busy) / dt) * 100 : (lastPercent ?? 0);
      last = { times, at: performance.now() };
      lastPercent = cpu;
    }
    const [mem, gpus] = await Promise.all([source.memory(), sampleGpus()]);
    const total = mem.total;
    const available = Math.min(mem.available, total);
    const memPct = total > 0 ? ((total - available) / total) * 100 : 0;
    return {
      cpuPercent: round1(clampPct(cpu)),
      memoryPercent: round1(clampPct(memPct)),
      memTotalBytes: total,
      memAvailableBytes: available,
      takenAt: now(),
      ...(gpus.length ? { gpus } : {}),
    };
  }

  return {
    sample(): Promise<ResourceSample> {
      // Concurrent callers share one sample (and the first one's wait).
      pending ??= take().finally(() => {
        pending = null;
      });
      return pending;
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
