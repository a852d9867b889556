/**
 * NVIDIA GPUs, via systeminformation's `graphics()` (which reads nvidia-smi):
 * utilisation and memory per GPU. A machine without one reports nothing —
 * and is asked only once per process (graphics() costs ~20 ms).
 */
import { existsSync } from "node:fs";
import { platform } from "node:os";
export interface GpuSample {
  index: number;
  name: string;
  utilization_percent: number | null;
  memory_used_mb: number | null;
  memory_total_mb: number | null;
}

let none = false;
let seen = false;

/** Whether this process has seen an NVIDIA GPU on the machine (a sample found one). */
export function gpuSeen(): boolean {
  return seen;
}

export async function sampleGpus(): Promise<GpuSample[]> {
  if (none) return [];
  // Linux without the NVIDIA driver loaded: nvidia-smi could report nothing; no need to load
  // systeminformation (~35 ms) and run graphics() (~25 ms) to learn it.
  if (platform() === "linux" && !existsSync("/proc/driver/nvidia")) {
    none = true;
    return [];
  }
  try {
    const si = (await import("systeminformation")).default;
    const g = await si.graphics();
    const gpus = g.controllers
      .filter((c) => /nvidia/i.test(`${c.vendor} ${c.model}`) && (c.utilizationGpu !== undefined || c.memoryTotal !== undefined))
      .map((c, index) => ({
        index,
        name: c.name ?? c.model,
        utilization_percent: c.utilizationGpu ?? null,
        memory_used_mb: c.memoryUsed ?? null,
        memory_total_mb: c.memoryTotal ?? null,
      }));
    if (gpus.length === 0) none = true;
    else seen = true;
    return gpus;
  } catch {
    none = true;
    return [];
  }
}
