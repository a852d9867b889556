/**
 * The commands a user (or a PM agent, in a loop) types, each its own process,
 * Node start-up included, interleaved with a bare `node -e 0` in every round
 * (AIPM_BENCH_REPEAT rounds, default 5; medians):
 *
 * - `aipm import` of a 1,000- and a 10,000-task plan (a DAG, 1–2 target files
 *   each) into a new database: its own time is its wall time less `node -e 0`'s
 *   — targets < 150 ms and < 1 s;
 * - `aipm status bench O --json` and `aipm wait bench O --json` on the finished
 *   1,000-task order — target < 150 ms wall each (status measures the machine,
 *   as it does by default);
 * - `aipm --version`, the bare start-up of the CLI.
 *
 * AIPM_BENCH_BASELINE (see ./runtime-workloads.ts) runs another build's import, status and wait in
 * every round too.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASELINE_CLI, CLI, benchDir, cliEnv, median, planOf, spread, timeNode } from "./runtime-workloads.js";
import type { Workload } from "./floor-scheduler.js";
import type { Result, Suite } from "./run.js";

const REPEAT = Math.max(1, Number(process.env.AIPM_BENCH_REPEAT ?? 5));

function dag(n: number): Workload {
  const tasks: Workload["tasks"] = [];
  for (let i = 0; i < n; i++) {
    const deps = i >= 100 ? [`t${i - 100 + (i % 7)}`, `t${i - 50}`] : [];
    const files = i % 3 === 0 ? [`src/m${i % 50}/f${i}.ts`, `docs/d${i % 20}.md`] : [`src/m${i % 50}/f${i}.ts`];
    tasks.push({ id: `t${i}`, deps, command: ["true"], files });
  }
  return { name: `dag-${n}`, maxWorkers: 8, tasks };
}

export const cliCommands: Suite = {
  name: "cli",
  description: "single commands through the CLI (import, status --json, wait --json, --version) against a bare node -e 0",
  async run(ctx) {
    const dir = benchDir("aipm-cli-");
    const env = cliEnv({ AIPM_ENABLE_MONITORING: "false" });
    const userEnv = cliEnv();
    try {
      for (const n of [1000, 10000]) writeFileSync(join(dir, `plan-${n}.json`), JSON.stringify(planOf(dag(n))));
      // The order that status and wait read: 1,000 tasks run to their end once.
      const doneDir = join(dir, "done");
      mkdirSync(doneDir);
      await timeNode([CLI, "import", join(dir, "plan-1000.json")], { cwd: doneDir, env });
      await timeNode([CLI, "parallel-launch", "bench", "O", "--wait"], { cwd: doneDir, env });
      const series: Record<string, number[]> = { node: [], version: [], import1k: [], import10k: [], status: [], wait: [] };
      const base: Record<string, number[]> = { import1k: [], import10k: [], status: [], wait: [] };
      const clis: Array<[string, Record<string, number[]>]> = [[CLI, series], ...(BASELINE_CLI ? [[BASELINE_CLI, base] as [string, Record<string, number[]>]] : [])];
      for (let i = 0; i < REPEAT; i++) {
        ctx.log(`cli (${i + 1}/${REPEAT})...`);
        series.node!.push((await timeNode(["-e", "0"], { cwd: dir, env })).wallMs);
        series.version!.push((await timeNode([CLI, "--version"], { cwd: dir, env })).wallMs);
        for (const [cli, s] of clis) {
          for (const n of [1000, 10000]) {
            const d = join(dir, `import-${n}-${i}`);
            mkdirSync(d);
            s[n === 1000 ? "import1k" : "import10k"]!.push((await timeNode([cli, "import", join(dir, `plan-${n}.json`)], { cwd: d, env })).wallMs);
            rmSync(d, { recursive: true, force: true });
          }
          s.status!.push((await timeNode([cli, "status", "bench", "O", "--json"], { cwd: doneDir, env: userEnv })).wallMs);
          s.wait!.push((await timeNode([cli, "wait", "bench", "O", "--json"], { cwd: doneDir, env: userEnv })).wallMs);
        }
      }
      const node = median(series.node!);
      const own = (xs: number[]) => xs.map((x, i) => x - series.node![i]!);
      const out: Result[] = [];
      out.push({ name: "node -e 0", value: node, unit: "ms", note: spread(series.node!, 0, " ms") });
      out.push({ name: "aipm --version", value: median(series.version!), unit: "ms", note: spread(series.version!, 0, " ms") });
      for (const [key, n, target] of [["import1k", 1000, 150], ["import10k", 10000, 1000]] as const) {
        const xs = series[key]!;
        out.push({ name: `aipm import, ${n.toLocaleString("en-US")} tasks: wall`, value: median(xs), unit: "ms", note: spread(xs, 0, " ms") });
        const o = median(own(xs));
        out.push({ name: `aipm import, ${n.toLocaleString("en-US")} tasks: own time (wall - node -e 0)`, value: o, unit: "ms", target, pass: o < target, sub: true });
      }
      for (const key of ["status", "wait"] as const) {
        const xs = series[key]!;
        const m = median(xs);
        out.push({ name: `aipm ${key} bench O --json (finished 1,000-task order): wall`, value: m, unit: "ms", target: 150, pass: m < 150, note: spread(xs, 0, " ms") });
      }
      if (BASELINE_CLI) {
        for (const key of ["import1k", "import10k", "status", "wait"] as const) {
          out.push({ name: `baseline build: ${key}, wall`, value: median(base[key]!), unit: "ms", sub: true, note: spread(base[key]!, 0, " ms") });
        }
      }
      return out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
