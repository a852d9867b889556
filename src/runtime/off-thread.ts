/**
 * CPU-bound work the supervisor moves off its event loop, on a piscina pool
 * of worker threads: reading back an ended agent attempt's log (up to its
 * last 8 MiB of stream-json, parsed line by line: ~100-150 ms for a big log
 * on this machine, during which the loop would serve no other task's end,
 * no log, no spawn). Measured by `npm run bench -- --only agent-streams`.
 *
 * The pool is made when a supervisor of a project with agent tasks starts
 * (`warm`: loading piscina blocks the loop ~20 ms once, better then than at
 * an end; commands and projects that never need it pay nothing). Its one
 * thread starts at the first read and ends after 5 s idle; the pool is
 * closed with the supervisor. Where there is no built worker file (the library run from its
 * TypeScript sources, in tests), or the pool fails, the same read runs in
 * place.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readAgentLog } from "../agent/read-agent-log.js";
import type { AgentSummary } from "../agent/stream-json.js";

interface Pool {
  run(task: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** The built worker: next to this file's folder (tsc's dist/src/) or under dist/src/ (the bundle in dist/cli/). */
function workerFile(): string | null {
  for (const rel of ["../agent/agent-log-worker.js", "../src/agent/agent-log-worker.js"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

export class OffThread {
  private pool: Promise<Pool | null> | null = null;

  private getPool(): Promise<Pool | null> {
    this.pool ??= (async () => {
      const file = workerFile();
      if (file === null) return null;
      try {
        const { Piscina } = await import("piscina");
        // A small young generation: the thread's peak memory, not its speed, is what a supervisor pays.
        return new Piscina({
          filename: file,
          minThreads: 0,
          maxThreads: 1,
          idleTimeout: 5000,
          resourceLimits: { maxYoungGenerationSizeMb: 4 },
        }) as unknown as Pool;
      } catch {
        return null;
      }
    })();
    return this.pool;
  }

  /** Loads piscina and makes the pool now (no thread yet). */
  warm(): void {
    void this.getPool();
  }

  /** The agent's summary of its log, read on a worker thread (in place when there is none). */
  async readAgentLog(path: string): Promise<AgentSummary> {
    const pool = await this.getPool();
    if (pool) {
      try {
        return (await pool.run(path)) as AgentSummary;
      } catch {
        // The thread failed (out of memory...): read it here.
      }
    }
    return readAgentLog(path);
  }

  /** Whether reads go to a worker thread (false: they run in place). */
  async onThread(): Promise<boolean> {
    return (await this.getPool()) !== null;
  }

  /** Ends the threads (a pool never used costs nothing). */
  close(): void {
    const pool = this.pool;
    this.pool = null;
    void pool?.then((p) => p?.close()).catch(() => {});
  }
}
