/**
 * Issue 15, target 4: a supervisor watching agent tasks that stream.
 *
 * - **8 streams**: 8 agent tasks (the stand-in ./stream-agent.ts, through
 *   AIPM_AGENT_CMD), each streaming ~100 KB/s of stream-json for
 *   AIPM_BENCH_STREAM_S seconds (default 60), run by `aipm parallel-launch
 *   --wait` (no review, monitoring off). The supervisor (that process)
 *   reports its own figures at its end (AIPM_LOOP_STATS): CPU in percent of
 *   one core, peak RSS, event-loop delay p99 and max, over its whole run
 *   (its start-up and the 8 ends included).
 * - **a 50 MB log**: one agent task streams 50 MB (AIPM_BENCH_BIG_MB) as fast
 *   as it can, then ends: the supervisor follows it and records its end
 *   (reading its result, cost, edited files from the log); the event-loop
 *   delay over that run, its max being the longest block.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoopStats } from "../src/runtime/loop-stats.js";
import { benchDir, CLI, cliEnv, timeNode } from "./runtime-workloads.js";
import type { Result, Suite, SuiteContext } from "./run.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const AGENT = join(HERE, "stream-agent.js");

interface StreamRun {
  stats: LoopStats;
  wallMs: number;
  logBytes: number;
}

async function run(name: string, tasks: number, streamEnv: Record<string, string>): Promise<StreamRun> {
  const dir = benchDir(`aipm-streams-${name}-`);
  try {
    mkdirSync(join(dir, "root"));
    const plan = { project: "bench", root: "./root", orders: [{ id: "O", tasks: Array.from({ length: tasks }, (_, i) => ({ id: `a${i}`, prompt: "stream" })) }] };
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const statsFile = join(dir, "loop-stats.jsonl");
    const env = cliEnv({
      ...streamEnv,
      AIPM_ENABLE_MONITORING: "false",
      AIPM_AGENT_CMD: JSON.stringify([process.execPath, AGENT]),
      AIPM_LOOP_STATS: statsFile,
    });
    const imp = await timeNode([CLI, "import", "plan.json"], { cwd: dir, env: { ...env, AIPM_LOOP_STATS: "" } });
    if (imp.code !== 0) throw new Error(`${name}: import failed`);
    const launch = await timeNode([CLI, "parallel-launch", "bench", "O", "--wait", "--no-review", "--max-workers", String(tasks)], { cwd: dir, env });
    if (launch.code !== 0) throw new Error(`${name}: parallel-launch --wait exited ${launch.code}`);
    if (!existsSync(statsFile)) throw new Error(`${name}: the supervisor wrote no loop stats`);
    const lines = readFileSync(statsFile, "utf8").trim().split("\n");
    const stats = JSON.parse(lines[lines.length - 1]!) as LoopStats;
    let logBytes = 0;
    for (let i = 0; i < tasks; i++) {
      try {
        logBytes += readFileSync(join(dir, ".aipm", "logs", "bench", `a${i}`, "1.log")).length;
      } catch {
        // counted as 0
      }
    }
    return { stats, wallMs: launch.wallMs, logBytes };
  } finally {
    if (!process.env.AIPM_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

export const agentStreams: Suite = {
  name: "agent-streams",
  description: "a supervisor watching 8 agent tasks streaming ~100 KB/s of stream-json each, and the end of an attempt with a 50 MB log",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const seconds = Number(process.env.AIPM_BENCH_STREAM_S ?? 60);
    const bigMb = Number(process.env.AIPM_BENCH_BIG_MB ?? 50);
    const out: Result[] = [];
    ctx.log(`8 streams x 100 KB/s for ${seconds} s...`);
    const a = await run("8x100k", 8, { BENCH_STREAM_KBPS: "100", BENCH_STREAM_S: String(seconds) });
    const rate = a.logBytes / 1024 / (a.wallMs / 1000);
    out.push({
      name: `8 streams: supervisor CPU (% of one core)`,
      value: a.stats.cpu_percent,
      unit: "%",
      target: 3,
      pass: a.stats.cpu_percent < 3,
      note: `${a.stats.cpu_ms} ms CPU over ${(a.stats.wall_ms / 1000).toFixed(1)} s; ${(a.logBytes / 1048576).toFixed(1)} MB of logs, ~${Math.round(rate / 8)} KB/s per task`,
      params: { seconds },
    });
    out.push({
      name: "8 streams: supervisor peak RSS",
      value: a.stats.rss_max_mb,
      unit: "MB",
      target: 150,
      pass: a.stats.rss_max_mb < 150,
      note: `V8 heap in use then ${a.stats.heap_at_rss_max_mb} MB`,
    });
    out.push({ name: "8 streams: event-loop delay p99", value: a.stats.eld_p99_ms, unit: "ms", target: 20, pass: a.stats.eld_p99_ms < 20, note: `p50 ${a.stats.eld_p50_ms} ms, max ${a.stats.eld_max_ms} ms` });
    ctx.log(`one ${bigMb} MB log...`);
    const b = await run("big", 1, { BENCH_STREAM_MB: String(bigMb) });
    out.push({
      name: `${bigMb} MB log: event-loop delay max (its end included)`,
      value: b.stats.eld_max_ms,
      unit: "ms",
      target: 20,
      pass: b.stats.eld_max_ms < 20,
      note: `p99 ${b.stats.eld_p99_ms} ms; ${(b.logBytes / 1048576).toFixed(1)} MB written in ${(b.wallMs / 1000).toFixed(1)} s; supervisor CPU ${b.stats.cpu_ms} ms, peak RSS ${b.stats.rss_max_mb} MB (heap ${b.stats.heap_at_rss_max_mb} MB)`,
      params: { mb: bigMb },
    });
    return out;
  },
};
