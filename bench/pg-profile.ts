/**
 * Where aipm's time goes on PostgreSQL: runs `aipm import` + `parallel-launch --wait` of N
 * `true` tasks (8 workers) through the built CLI on a server started for it, with every
 * statement logged by the server (`log_min_duration_statement = 0`), and prints statements per
 * task, the server's time in them, and the most frequent statements (their text normalised).
 *
 *   npm run build && node dist/bench/pg-profile.js [N=200]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startPgCluster } from "../tests/helpers/pg-cluster.js";
import { SyncPgClient } from "../src/store/pg/sync-client.js";
import { benchDir, CLI, cliEnv } from "./runtime-workloads.js";

const N = Number(process.argv[2] ?? 200);
const cluster = await startPgCluster();
try {
  const url = await cluster.createDatabase();
  const admin = new SyncPgClient(cluster.url);
  admin.exec("ALTER SYSTEM SET log_min_duration_statement = 0");
  admin.exec("ALTER SYSTEM SET log_line_prefix = '%p %a|'");
  // The round trip: the synchronous client (a worker thread, Atomics.wait) and node-postgres itself (awaited).
  const K = 2000;
  let t = performance.now();
  for (let i = 0; i < K; i++) admin.query("SELECT $1::int AS x", [i]);
  const syncUs = ((performance.now() - t) / K) * 1000;
  const { default: pg } = await import("pg");
  const direct = new pg.Client({ connectionString: cluster.url });
  await direct.connect();
  t = performance.now();
  for (let i = 0; i < K; i++) await direct.query("SELECT $1::int AS x", [i]);
  const asyncUs = ((performance.now() - t) / K) * 1000;
  await direct.end();
  console.log(`round trip of SELECT $1: ${syncUs.toFixed(0)} µs through the sync client, ${asyncUs.toFixed(0)} µs with node-postgres awaited (${K} each)`);
  admin.exec("SELECT pg_reload_conf()");
  admin.close();
  const dir = benchDir("aipm-pgprof-");
  mkdirSync(join(dir, ".aipm"));
  const plan = { project: "bench", root: "./root", orders: [{ id: "O", tasks: Array.from({ length: N }, (_, i) => ({ id: `t${i}`, command: ["true"] })) }] };
  writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
  const env = cliEnv({ AIPM_ENABLE_MONITORING: "false" });
  env.AIPM_DB = url;
  const log = join(cluster.dir, "server.log");
  const phases: Array<[string, string[]]> = [
    ["import", ["import", "plan.json"]],
    ["launch", ["parallel-launch", "bench", "O", "--wait", "--max-workers", "8"]],
  ];
  for (const [phase, args] of phases) {
    const before = readFileSync(log, "utf8").length;
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: "utf8" });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`aipm ${args.join(" ")}: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 500));
    const lines = readFileSync(log, "utf8").slice(before).split("\n");
    const byText = new Map<string, { n: number; ms: number }>();
    const pids = new Set<string>();
    let n = 0;
    let ms = 0;
    for (const l of lines) {
      // A statement with parameters is logged three times (parse, bind, execute): its time is the sum, its count one.
      const m = /^(\d+) [^|]*\|LOG:\s+duration: ([\d.]+) ms\s+(statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)$/.exec(l);
      if (!m) continue;
      const one = m[3] === "statement" || m[3]!.startsWith("execute");
      pids.add(m[1]!);
      const text = m[4]!.replace(/\$\d+/g, "$").replace(/'[^']*'/g, "'…'").replace(/\b\d+\b/g, "N").replace(/\s+/g, " ").slice(0, 140);
      const e = byText.get(text) ?? { n: 0, ms: 0 };
      if (one) e.n++;
      e.ms += Number(m[2]);
      byText.set(text, e);
      if (one) n++;
      ms += Number(m[2]);
    }
    console.log(`${phase}: ${wall.toFixed(0)} ms wall, ${n} statements (${(n / N).toFixed(1)} per task) from ${pids.size} connections, ${ms.toFixed(0)} ms in the server`);
    for (const [text, e] of [...byText].sort((a, b) => b[1].n - a[1].n).slice(0, Number(process.env.TOP ?? 40))) {
      console.log(`  ${String(e.n).padStart(6)} ${(e.n / N).toFixed(2).padStart(6)}/task ${e.ms.toFixed(0).padStart(6)} ms  ${text}`);
    }
  }
} finally {
  await cluster.stop();
}
