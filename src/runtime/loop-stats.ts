/**
 * AIPM_LOOP_STATS=FILE: a supervisor measures its own event loop and appends
 * one JSON line to FILE when it stops — wall time, CPU time (user + system)
 * and its share of one core, peak RSS, and the event loop's delay (p50, p99,
 * max: `perf_hooks.monitorEventLoopDelay`, whose histogram holds the
 * intervals of a 10 ms timer: the delay is what exceeds the 10 ms). For benchmarks and diagnosis
 * (`npm run bench -- --only agent-streams`); off by default, free when off.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const RESOLUTION_MS = 10;

export interface LoopStats {
  pid: number;
  wall_ms: number;
  cpu_ms: number;
  /** CPU time / wall time, in percent of one core. */
  cpu_percent: number;
  rss_max_mb: number;
  /** The V8 heap in use when the RSS peaked (the rest: code, thread stacks, buffers, freed pages not returned). */
  heap_at_rss_max_mb: number;
  eld_p50_ms: number;
  eld_p99_ms: number;
  eld_max_ms: number;
}

/** Starts measuring when AIPM_LOOP_STATS is set; the returned function writes the line (once). */
export function startLoopStats(env: NodeJS.ProcessEnv): (() => void) | null {
  const file = env.AIPM_LOOP_STATS?.trim();
  if (!file) return null;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rssMax = 0;
  let heapAtMax = 0;
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > rssMax) {
      rssMax = m.rss;
      heapAtMax = m.heapUsed;
    }
  };
  sample();
  const sampler = setInterval(sample, 250);
  sampler.unref();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    h.disable();
    clearInterval(sampler);
    sample();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
    const stats: LoopStats = {
      pid: process.pid,
      wall_ms: Math.round(wall),
      cpu_ms: Math.round(cpuMs),
      cpu_percent: Math.round((cpuMs / wall) * 10000) / 100,
      rss_max_mb: Math.round(rssMax / 1048576),
      heap_at_rss_max_mb: Math.round(heapAtMax / 1048576),
      eld_p50_ms: ms(h.percentile(50)),
      eld_p99_ms: ms(h.percentile(99)),
      eld_max_ms: ms(h.max),
    };
    try {
      appendFileSync(file, `${JSON.stringify(stats)}\n`);
    } catch {
      // A diagnosis file that cannot be written changes nothing.
    }
  };
}
