/**
 * The `postgres` suite: aipm on PostgreSQL through the CLI, as a user runs it
 * (`AIPM_DB=postgres://…`), on a throwaway server this suite starts
 * (tests/helpers/pg-cluster.ts: initdb + pg_ctl in a temp dir, a free
 * loopback port, fsync off unless AIPM_BENCH_PG_DURABLE=1). Skipped, with a
 * note, when PostgreSQL's binaries are missing.
 *
 * 1. **vs SQLite**: flat-1000-true and dag-1000-true, each round running the
 *    floor, aipm on SQLite and aipm on PostgreSQL (a fresh database per run)
 *    back to back, the order rotating between rounds — the runtime suite's
 *    harness (`runAipmCli`, `runFloorProcess`), with the database as its
 *    parameter. Figures: medians of the per-round ratios, PostgreSQL / SQLite
 *    (target ≤ 1.5×) and each against the floor.
 * 2. **claims per second**: 400 `true` tasks, 1, 2 and 4 hosts (h1..h4, each
 *    its own AIPM_HOST, the plan imported once per host) on one database, each
 *    host `parallel-launch --wait --max-workers 8` at once: tasks per second
 *    overall (from the launches' start to the last one's exit) and each host's
 *    share of the runs.
 * 3. **a host's death**: h1 runs 4 long tasks, h2 waits for the order (its own
 *    supervisor, in `aipm wait`'s process), both with AIPM_HOST_LEASE_S=3 and AIPM_RETRY_BACKOFF_S=0;
 *    every process of h1 (its supervisor, spawner, wrappers and tasks: found by
 *    an environment tag) is SIGKILLed; read from the runs table: the time from
 *    the kill to h1's attempt closed as crashed by h2, and to its new attempt
 *    starting on h2 — and that minus the lease.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openStore, type Store } from "../src/store/open.js";
import { type PgCluster, pgAvailable, startPgCluster } from "../tests/helpers/pg-cluster.js";
import type { Workload } from "./floor-scheduler.js";
import type { Result, Suite, SuiteContext } from "./run.js";
import { type AipmRun, benchDir, CLI, cliEnv, load, median, planOf, runAipmCli, runFloorProcess, spread, timeNode } from "./runtime-workloads.js";

const REPEAT = Math.max(1, Number(process.env.AIPM_BENCH_REPEAT ?? 5));
const ROUNDS = Math.max(1, Math.min(REPEAT, 3));
const LEASE_S = 3;
/** Run folders, removed when the suite ends (see runtime-workloads.ts, `leftovers`). */
const runDirs: string[] = [];

// ------------------------------------------------------------ 1. PostgreSQL vs SQLite

async function vsSqlite(name: string, cluster: PgCluster, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = load(name);
  const floors: number[] = [];
  const lites: AipmRun[] = [];
  const pgs: AipmRun[] = [];
  const steps: Array<[string, () => Promise<void>]> = [
    ["floor", async () => void floors.push((await runFloorProcess(w)).wallMs)],
    ["SQLite", async () => void lites.push(await runAipmCli(w))],
    ["PostgreSQL", async () => void pgs.push(await runAipmCli(w, { pgUrl: await cluster.createDatabase() }))],
  ];
  for (let i = 0; i < REPEAT; i++) {
    const order = [...steps.slice(i % 3), ...steps.slice(0, i % 3)];
    ctx.log(`${name} (${i + 1}/${REPEAT}): ${order.map(([n]) => n).join(", ")}...`);
    for (const [, step] of order) await step();
  }
  runDirs.push(...[...lites, ...pgs].map((r) => r.dir));
  const walls = (rs: AipmRun[]): number[] => rs.map((r) => r.wallMs);
  const ratio = (a: number[], b: number[]): number[] => a.map((x, i) => x / b[i]!);
  const pgVsLite = ratio(walls(pgs), walls(lites));
  out.push({ name: `${name}: floor (its own process)`, value: median(floors), unit: "ms", note: spread(floors, 0, " ms") });
  out.push({ name: `${name}: SQLite, import + parallel-launch --wait`, value: median(walls(lites)), unit: "ms", note: spread(walls(lites), 0, " ms") });
  out.push({ name: `${name}: PostgreSQL, import + parallel-launch --wait`, value: median(walls(pgs)), unit: "ms", note: spread(walls(pgs), 0, " ms") });
  out.push({ name: `${name}: PostgreSQL, of which import`, value: median(pgs.map((r) => r.importMs)), unit: "ms", sub: true, note: spread(pgs.map((r) => r.importMs), 0, " ms") });
  out.push({ name: `${name}: PostgreSQL, of which parallel-launch --wait`, value: median(pgs.map((r) => r.launchMs)), unit: "ms", sub: true, note: spread(pgs.map((r) => r.launchMs), 0, " ms") });
  out.push({ name: `${name}: PostgreSQL / SQLite`, value: median(pgVsLite), unit: "x", target: 1.5, pass: median(pgVsLite) <= 1.5, note: `median of per-round ratios; ${spread(pgVsLite, 2)}` });
  out.push({ name: `${name}: PostgreSQL / floor`, value: median(ratio(walls(pgs), floors)), unit: "x", sub: true, note: spread(ratio(walls(pgs), floors), 2) });
  out.push({ name: `${name}: SQLite / floor`, value: median(ratio(walls(lites), floors)), unit: "x", sub: true, note: spread(ratio(walls(lites), floors), 2) });
}

// ------------------------------------------------------------ hosts on one database

interface HostRun {
  task_id: string;
  attempt: number;
  host: string | null;
  outcome: string;
  started_at: number;
  finished_at: number | null;
}

function hostRuns(store: Store): HostRun[] {
  return store.conn.prepare("SELECT task_id, attempt, host, outcome, started_at, finished_at FROM runs ORDER BY task_id, attempt").all() as HostRun[];
}

function heartbeatOf(store: Store, host: string): number {
  const row = store.conn.prepare("SELECT heartbeat_at FROM hosts WHERE host = ?").get(host) as { heartbeat_at: number } | undefined;
  return row?.heartbeat_at ?? 0;
}

/** The environment of host `host` on database `url`: its AIPM_HOST, and a tag every process it starts inherits. */
function hostEnv(url: string, host: string, tag: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = cliEnv({ AIPM_ENABLE_MONITORING: "false", AIPM_HOST: host, AIPM_BENCH_TAG: tag, ...extra });
  env.AIPM_DB = url;
  return env;
}

/** A run folder on a fresh database, the plan imported once as each host (each records its root for the project). */
async function hostsWorld(cluster: PgCluster, w: Workload, hosts: readonly string[], extra: Record<string, string> = {}): Promise<{ dir: string; url: string }> {
  const dir = benchDir(`aipm-pg-${w.name}-`);
  mkdirSync(join(dir, ".aipm"));
  writeFileSync(join(dir, "plan.json"), JSON.stringify(planOf(w)));
  const url = await cluster.createDatabase();
  runDirs.push(dir);
  for (const h of hosts) await timeNode([CLI, "import", "plan.json"], { cwd: dir, env: hostEnv(url, h, `${dir}/${h}`, extra) });
  return { dir, url };
}

/** Live processes whose environment holds AIPM_BENCH_TAG=tag. */
function taggedPids(tag: string, cmd?: (argv: string[]) => boolean): number[] {
  const want = `AIPM_BENCH_TAG=${tag}\0`;
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`, "utf8").includes(want)) continue;
      if (cmd && !cmd(readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0"))) continue;
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${e}/stat`, "utf8"))) continue;
      out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

async function killTagged(tag: string): Promise<number> {
  let killed = 0;
  const until = Date.now() + 10_000;
  for (;;) {
    const left = taggedPids(tag);
    if (left.length === 0 || Date.now() > until) return killed;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ------------------------------------------------------------ 2. claims per second

const CLAIM_TASKS = 400;
const CLAIM_WORKERS = 8;

function claimsWorkload(): Workload {
  return {
    name: `claims-${CLAIM_TASKS}`,
    maxWorkers: CLAIM_WORKERS,
    tasks: Array.from({ length: CLAIM_TASKS }, (_, i) => ({ id: `t${String(i).padStart(4, "0")}`, deps: [], command: ["true"], files: [] })),
  };
}

async function claims(hostCount: number, cluster: PgCluster, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = claimsWorkload();
  const hosts = Array.from({ length: hostCount }, (_, i) => `h${i + 1}`);
  const rates: number[] = [];
  const startRates: number[] = [];
  const shares = new Map<string, number[]>(hosts.map((h) => [h, []]));
  for (let i = 0; i < ROUNDS; i++) {
    ctx.log(`claims, ${hostCount} host(s) (${i + 1}/${ROUNDS})...`);
    const { dir, url } = await hostsWorld(cluster, w, hosts);
    const t0 = performance.now();
    await Promise.all(
      hosts.map((h) =>
        timeNode([CLI, "parallel-launch", "bench", "O", "--wait", "--max-workers", String(CLAIM_WORKERS)], { cwd: dir, env: hostEnv(url, h, `${dir}/${h}`) }),
      ),
    );
    const wallMs = performance.now() - t0;
    const store = await openStore({ db: url });
    const runs = hostRuns(store).filter((r) => r.outcome === "succeeded");
    store.close();
    if (runs.length !== CLAIM_TASKS) throw new Error(`claims: ${runs.length} of ${CLAIM_TASKS} tasks succeeded`);
    rates.push((CLAIM_TASKS / wallMs) * 1000);
    const starts = runs.map((r) => r.started_at).sort((a, b) => a - b);
    startRates.push(((CLAIM_TASKS - 1) / Math.max(1, starts[starts.length - 1]! - starts[0]!)) * 1000);
    for (const h of hosts) shares.get(h)!.push((runs.filter((r) => r.host === h).length / CLAIM_TASKS) * 100);
    for (const h of hosts) await killTagged(`${dir}/${h}`); // supervisors that outlive the order's end
  }
  out.push({
    name: `claims: ${hostCount} host(s) x parallel-launch --wait --max-workers ${CLAIM_WORKERS}, ${CLAIM_TASKS} true tasks`,
    value: median(rates),
    unit: "tasks/s",
    note: `start of the launches -> last exit; ${spread(rates, 0)}; first start -> last start in the runs table ${median(startRates).toFixed(0)} tasks/s`,
    params: { hosts: hostCount, tasks: CLAIM_TASKS },
  });
  if (hostCount > 1) {
    out.push({
      name: `claims: ${hostCount} hosts, each host's share of the runs`,
      value: Math.min(...hosts.map((h) => median(shares.get(h)!))),
      unit: "% (least)",
      sub: true,
      note: hosts.map((h) => `${h} ${median(shares.get(h)!).toFixed(0)} %`).join(", "),
    });
  }
}

// ------------------------------------------------------------ 3. a host's death

const DEATH_TASKS = 4;

function deathWorkload(): Workload {
  // Long on h1 (until it dies), instant on any other host: the recovered attempt's start is what counts.
  const command = ["sh", "-c", 'if [ "$AIPM_HOST" = h1 ]; then exec sleep 600; fi'];
  return { name: "host-death", maxWorkers: DEATH_TASKS, tasks: Array.from({ length: DEATH_TASKS }, (_, i) => ({ id: `L${i}`, deps: [], command, files: [] })) };
}

async function hostDeath(cluster: PgCluster, ctx: SuiteContext, out: Result[]): Promise<void> {
  const w = deathWorkload();
  const settings = { AIPM_HOST_LEASE_S: String(LEASE_S), AIPM_RETRY_BACKOFF_S: "0" };
  const recovered: number[] = [];
  const restarted: number[] = [];
  let killedProcesses = 0;
  for (let i = 0; i < ROUNDS; i++) {
    ctx.log(`host death (${i + 1}/${ROUNDS}): h1 runs ${DEATH_TASKS} tasks, h2 waits, h1 is killed...`);
    const { dir, url } = await hostsWorld(cluster, w, ["h1", "h2"], settings);
    const [t1, t2] = [`${dir}/h1`, `${dir}/h2`];
    const store = await openStore({ db: url });
    try {
      await timeNode([CLI, "parallel-launch", "bench", "O", "--max-workers", String(DEATH_TASKS)], { cwd: dir, env: hostEnv(url, "h1", t1, settings) });
      await until(() => taggedPids(t1, (argv) => argv[0] === "sleep").length === DEATH_TASKS, `h1's ${DEATH_TASKS} tasks to run`);
      const h2At = Date.now();
      const h2 = spawn(process.execPath, [CLI, "wait", "bench", "O", "--timeout", "120"], { cwd: dir, env: hostEnv(url, "h2", t2, settings), stdio: "ignore" });
      const h2done = new Promise<number | null>((resolve) => h2.on("close", resolve));
      // `aipm wait` supervises in its own process: it is up once it has written h2's heartbeat.
      await until(() => heartbeatOf(store, "h2") >= h2At, "h2's supervisor's heartbeat");
      const killedAt = Date.now();
      killedProcesses += await killTagged(t1);
      const code = await h2done;
      if (code !== 0) throw new Error(`host death: h2's aipm wait exited ${code}`);
      const runs = hostRuns(store);
      for (const task of w.tasks.map((t) => t.id)) {
        const first = runs.find((r) => r.task_id === task && r.attempt === 1);
        const second = runs.find((r) => r.task_id === task && r.attempt === 2);
        if (first?.host !== "h1" || first.outcome !== "crashed" || second?.host !== "h2" || second.outcome !== "succeeded") {
          throw new Error(`host death: ${task}'s runs are not h1 crashed then h2 succeeded: ${JSON.stringify(runs.filter((r) => r.task_id === task))}`);
        }
        recovered.push((first.finished_at! - killedAt) / 1000);
        restarted.push((second.started_at - killedAt) / 1000);
      }
    } finally {
      store.close();
      await killTagged(t1);
      await killTagged(t2);
    }
  }
  const note = `${recovered.length} tasks over ${ROUNDS} rounds, ${Math.round(killedProcesses / ROUNDS)} processes of h1 SIGKILLed per round; AIPM_HOST_LEASE_S=${LEASE_S}, AIPM_RETRY_BACKOFF_S=0`;
  out.push({ name: "host death: kill of every h1 process -> its attempt closed (crashed) by h2", value: median(recovered), unit: "s", note: `max ${Math.max(...recovered).toFixed(2)} s; ${note}` });
  out.push({ name: "host death: kill -> the recovered task's new attempt started on h2", value: median(restarted), unit: "s", note: `max ${Math.max(...restarted).toFixed(2)} s` });
  out.push({ name: "host death: that minus the lease", value: median(restarted) - LEASE_S, unit: "s", sub: true, note: `max ${(Math.max(...restarted) - LEASE_S).toFixed(2)} s` });
}

// ------------------------------------------------------------ the suite

export const postgresWorkloads: Suite = {
  name: "postgres",
  description: "aipm through the CLI on a PostgreSQL server started for the run: flat/dag vs SQLite, claims per second with 1/2/4 hosts, a host's death",
  async run(ctx) {
    if (!pgAvailable()) {
      ctx.log("postgres: skipped — PostgreSQL's binaries are not installed (no /usr/lib/postgresql/*/bin/initdb; set AIPM_TEST_PG_BIN)");
      return [];
    }
    const durable = process.env.AIPM_BENCH_PG_DURABLE === "1";
    const cluster = await startPgCluster({ durable });
    ctx.log(`postgres: server on 127.0.0.1:${cluster.port}, fsync ${durable ? "on" : "off"} (AIPM_BENCH_PG_DURABLE=1: on)`);
    const out: Result[] = [];
    const only = process.env.AIPM_BENCH_WORKLOAD?.split(",");
    const want = (n: string): boolean => !only || only.includes(n);
    try {
      for (const name of ["flat-1000-true", "dag-1000-true"]) if (want(name)) await vsSqlite(name, cluster, ctx, out);
      if (want("claims")) for (const n of [1, 2, 4]) await claims(n, cluster, ctx, out);
      if (want("host-death")) await hostDeath(cluster, ctx, out);
    } finally {
      await cluster.stop();
    }
    if (!process.env.AIPM_BENCH_KEEP) for (const d of runDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    for (const r of out) r.params = { ...r.params, fsync: durable ? "on" : "off" };
    return out;
  },
};
