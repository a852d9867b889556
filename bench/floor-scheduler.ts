/**
 * The floor: the least a scheduler can do for a workload — an in-memory
 * Node scheduler with no durability, no logs and no wrapper, spawning each
 * command directly as soon as its dependencies are done, a worker is free
 * and no running task shares one of its files. aipm's figures are reported
 * as ratios to this, measured in the same invocation.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";

export interface WorkloadTask {
  id: string;
  deps: string[];
  command: string[];
  files: string[];
}

export interface Workload {
  name: string;
  maxWorkers: number;
  tasks: WorkloadTask[];
  meta?: Record<string, unknown>;
}

export interface Timing {
  id: string;
  start: number;
  end: number;
}

/** With `logDir`, each task's stdout goes to `<logDir>/<id>.log` (the reaction benchmark reads the clocks its tasks print). */
export async function runFloor(w: Workload, cwd: string, logDir?: string): Promise<{ wallMs: number; timings: Timing[] }> {
  const pendingDeps = new Map(w.tasks.map((t) => [t.id, new Set(t.deps)]));
  const dependents = new Map<string, string[]>();
  for (const t of w.tasks) for (const d of t.deps) dependents.set(d, [...(dependents.get(d) ?? []), t.id]);
  const byId = new Map(w.tasks.map((t) => [t.id, t]));
  const ready: string[] = w.tasks.filter((t) => t.deps.length === 0).map((t) => t.id);
  const held = new Set<string>();
  const timings: Timing[] = [];
  let running = 0;
  let finished = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const pump = () => {
      for (let i = 0; i < ready.length && running < w.maxWorkers; ) {
        const t = byId.get(ready[i]!)!;
        if (t.files.some((f) => held.has(f))) {
          i++;
          continue;
        }
        ready.splice(i, 1);
        for (const f of t.files) held.add(f);
        running++;
        const start = performance.now();
        const out = logDir ? openSync(join(logDir, `${t.id}.log`), "w") : "ignore";
        const child = spawn(t.command[0]!, t.command.slice(1), { cwd, stdio: ["ignore", out, "ignore"] });
        if (typeof out === "number") closeSync(out);
        child.on("exit", () => {
          timings.push({ id: t.id, start, end: performance.now() });
          running--;
          finished++;
          for (const f of t.files) held.delete(f);
          for (const d of dependents.get(t.id) ?? []) {
            const left = pendingDeps.get(d)!;
            left.delete(t.id);
            if (left.size === 0) ready.push(d);
          }
          if (finished === w.tasks.length) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return { wallMs: performance.now() - t0, timings };
}
