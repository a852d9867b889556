/**
 * Issue 16 stage 3 on SQLite: several hosts simulated on one machine — each
 * its own AIPM_HOST and its own aipm processes (supervisors included) — on
 * one database file. A DAG spread over two hosts keeps its locks and
 * dependencies globally, with the worker limit per host; labels route a task
 * to the only host that has them; a host killed entirely (every aipm and
 * task process of it, SIGKILL) has its attempts recovered by the other after
 * AIPM_HOST_LEASE_S (attempt counted, locks released), the order finishes,
 * nothing runs twice at once, and the dead host's late end is refused.
 */
import { describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/open.js";
import { finish, recordSpawn, recoverLost } from "../src/store/transitions.js";
import { beatHost } from "../src/store/hosts.js";
import { recordProgress } from "../src/store/task-progress.js";
import { recoverSilentHosts } from "../src/runtime/host-liveness.js";
import {
  aipm,
  alive,
  checkDagRecords,
  dagPlan,
  importPlan,
  killTagged,
  maxConcurrent,
  overlap,
  readJson,
  readRecord,
  recorded,
  setup,
  start,
  statuses,
  supervisorProcesses,
  taggedProcesses,
  waitFor,
  type Ctx,
  type Interval,
} from "./runtime-helpers.js";

async function store(ctx: Ctx): Promise<Store> {
  return openStore({ db: ctx.db });
}

function runsOf(s: Store, project: string): Array<{ task_id: string; attempt: number; host: string | null; outcome: string; error: string | null }> {
  return s.conn.prepare("SELECT task_id, attempt, host, outcome, error FROM runs WHERE project_id = ? ORDER BY task_id, attempt").all(project) as Array<{
    task_id: string;
    attempt: number;
    host: string | null;
    outcome: string;
    error: string | null;
  }>;
}

/** The environment of host `name`: its own AIPM_HOST, and its own tag so that all its processes can be killed at once. */
function hostEnv(ctx: Ctx, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...ctx.env, AIPM_HOST: name, AIPM_TEST_TAG: `${ctx.tag}/${name}`, ...extra };
}

/**
 * The plan imported, then imported again as each host: on PostgreSQL (git sync `auto` is on there)
 * a host launches a project's tasks only in a root of its own, which its import records.
 */
async function importOnHosts(ctx: Ctx, plan: unknown): Promise<void> {
  await importPlan(ctx, plan);
  for (const h of ["h1", "h2"]) await importPlan(ctx, plan, hostEnv(ctx, h));
}

describe("several hosts on one database", () => {
  it("two hosts run one DAG: locks and dependencies hold across them, one worker at a time on each (max 1), two at once in all", async () => {
    const ctx = setup();
    await importOnHosts(ctx, dagPlan(ctx, "sleep 0.4"));
    const h1 = hostEnv(ctx, "h1");
    const h2 = hostEnv(ctx, "h2");
    try {
      const [a, b] = await Promise.all([
        aipm(ctx, ["--json", "parallel-launch", "demo", "O1", "--max-workers", "1"], { env: h1 }),
        aipm(ctx, ["--json", "parallel-launch", "demo", "O1", "--max-workers", "1"], { env: h2 }),
      ]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      const s = await store(ctx);
      await waitFor(() => Object.values(statuses(s, "demo")).every((x) => x === "DONE"), { what: "every task DONE", timeoutMs: 40_000 });
      // Each ran once, after its dependencies, never beside a task whose files conflict with its own; two at most at once.
      const recs = checkDagRecords(ctx, 2);
      const hostOf = new Map(runsOf(s, "demo").map((r) => [r.task_id, r.host]));
      expect(new Set(hostOf.values())).toEqual(new Set(["h1", "h2"]));
      for (const h of ["h1", "h2"]) {
        expect(maxConcurrent(recs.filter((r) => hostOf.get(r.task) === h)), `more than one at once on ${h}`).toBe(1);
      }
      expect(maxConcurrent(recs), "the two hosts never ran at the same time").toBe(2);
      // The hosts view: both seen, alive, nothing running now; the short view says so in one line.
      const st = await readJson(ctx, ["status", "demo"]);
      expect(st.hosts.map((h: { host: string; alive: boolean; running: number }) => [h.host, h.alive, h.running])).toEqual([
        ["h1", true, 0],
        ["h2", true, 0],
      ]);
      expect(st.hosts[0]).toMatchObject({ labels: [], heartbeat_at: expect.any(String), version: expect.any(String) });
      const short = await aipm(ctx, ["status", "demo"], { env: h1 });
      expect(short.stdout).toMatch(/^hosts: h1 0 running; h2 0 running$/m);
      s.close();
    } finally {
      await killTagged(h1.AIPM_TEST_TAG!);
      await killTagged(h2.AIPM_TEST_TAG!);
    }
  }, 90_000);

  it("labels route a task to the only host that has them", async () => {
    const ctx = setup();
    const tasks = [
      { id: "G", command: recorded(ctx, "G", "sleep 0.2"), runs_on: ["gpu"] },
      ...["N1", "N2", "N3"].map((id) => ({ id, command: recorded(ctx, id, "sleep 0.2") })),
    ];
    await importOnHosts(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks }] });
    const plain = hostEnv(ctx, "h1");
    const gpu = hostEnv(ctx, "h2", { AIPM_HOST_LABELS: "gpu" });
    try {
      // The plain host first: it runs everything but G, which waits for a host with the label.
      expect((await aipm(ctx, ["parallel-launch", "p", "O"], { env: plain })).code).toBe(0);
      const s = await store(ctx);
      await waitFor(() => ["N1", "N2", "N3"].every((t) => statuses(s, "p")[t] === "DONE"), { what: "N1-N3 DONE on h1" });
      expect(statuses(s, "p").G).toBe("QUEUED");
      const g = (await readJson(ctx, ["status", "p"])).tasks.find((t: { task: string }) => t.task === "G");
      expect(g.waiting).toMatchObject({ reason: "host", runs_on: ["gpu"] });
      const w = await aipm(ctx, ["parallel-launch", "p", "O", "--wait", "--timeout", "30"], { env: gpu });
      expect(w.code, w.stderr).toBe(0);
      expect(runsOf(s, "p").map((r) => [r.task_id, r.host])).toEqual([
        ["G", "h2"],
        ["N1", "h1"],
        ["N2", "h1"],
        ["N3", "h1"],
      ]);
      const st = await readJson(ctx, ["status", "p"]);
      expect(st.hosts.map((h: { host: string; labels: string[] }) => [h.host, h.labels])).toEqual([
        ["h1", []],
        ["h2", ["gpu"]],
      ]);
      s.close();
    } finally {
      await killTagged(plain.AIPM_TEST_TAG!);
      await killTagged(gpu.AIPM_TEST_TAG!);
    }
  }, 60_000);

  it("a host killed entirely mid-order: after the lease the other host recovers its attempts (counted, locks released), the order finishes, nothing ran twice at once; its late end is refused", async () => {
    const ctx = setup({ AIPM_HOST_LEASE_S: "2" });
    // S1 and S2 share a file (one at a time, across hosts); T runs beside them; Z needs all three.
    const plan = {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "S1", priority: "P0", command: recorded(ctx, "S1", "sleep 2"), target_files: ["shared.txt"] },
            { id: "T", priority: "P0", command: recorded(ctx, "T", "sleep 2"), target_files: ["t.txt"] },
            { id: "S2", command: recorded(ctx, "S2", "sleep 0.5"), target_files: ["shared.txt"] },
            { id: "Z", command: recorded(ctx, "Z", "true"), deps: ["S1", "S2", "T"] },
          ],
        },
      ],
    };
    await importOnHosts(ctx, plan);
    const h1 = hostEnv(ctx, "h1");
    const h2 = hostEnv(ctx, "h2");
    const s = await store(ctx);
    try {
      const launched = await aipm(ctx, ["--json", "parallel-launch", "p", "O", "--max-workers", "2"], { env: h1 });
      expect(JSON.parse(launched.stdout).launched.map((l: { task: string; host: string }) => [l.task, l.host])).toEqual([
        ["S1", "h1"],
        ["T", "h1"],
      ]);
      await waitFor(() => readRecord(ctx, "S1").length === 1 && readRecord(ctx, "T").length === 1, { what: "S1 and T to start on h1" });
      // h2 joins: it waits for the order (a supervisor of its own); S2 waits for S1's lock, held by h1.
      const h2wait = start(ctx, ["--json", "wait", "p", "O", "--timeout", "60"], { env: h2 });
      await waitFor(() => taggedProcesses(h2.AIPM_TEST_TAG!).length > 0, { what: "h2's aipm to start" });
      // h1 dies entirely: its aipm processes (launcher's supervisor, spawner) and its task processes.
      expect(taggedProcesses(h1.AIPM_TEST_TAG!).length).toBeGreaterThan(0);
      await killTagged(h1.AIPM_TEST_TAG!);
      const killedAt = Date.now();
      expect(taggedProcesses(h1.AIPM_TEST_TAG!)).toEqual([]);

      const w = await h2wait.done;
      expect(w.code, w.stderr).toBe(0);
      expect(statuses(s, "p")).toEqual({ S1: "DONE", T: "DONE", S2: "DONE", Z: "DONE" });

      // S1 and T: attempt 1 on h1 closed as crashed by h2 (the error names the host and the lease); attempt 2 on h2.
      const runs = runsOf(s, "p");
      for (const task of ["S1", "T"]) {
        const mine = runs.filter((r) => r.task_id === task);
        expect(mine.map((r) => [r.attempt, r.host, r.outcome])).toEqual([
          [1, "h1", "crashed"],
          [2, "h2", "succeeded"],
        ]);
        expect(mine[0]!.error).toMatch(/^host h1 silent for [\d.]+ s \(AIPM_HOST_LEASE_S=2\): attempt recovered by h2$/);
        const row = s.conn.prepare("SELECT attempt, spent_attempts FROM tasks WHERE project_id = 'p' AND id = ?").get(task);
        expect(row, "the lost attempt is counted").toEqual({ attempt: 2, spent_attempts: 2 });
      }
      expect(runs.filter((r) => r.task_id === "S2" || r.task_id === "Z").map((r) => [r.task_id, r.host, r.outcome])).toEqual([
        ["S2", "h2", "succeeded"],
        ["Z", "h2", "succeeded"],
      ]);
      // Recovered after the lease, not before (the last heartbeat was at most a third of it before the kill), by one event each.
      const recoveries = s.conn
        .prepare("SELECT task_id, ts, data FROM events WHERE project_id = 'p' AND kind = 'task_retry' ORDER BY ts")
        .all() as Array<{ task_id: string; ts: number; data: string }>;
      expect(recoveries.map((e) => e.task_id).sort()).toEqual(["S1", "T"]);
      for (const e of recoveries) {
        expect(e.ts - killedAt).toBeGreaterThan(1000);
        expect(JSON.parse(e.data)).toMatchObject({ failure_kind: "crashed", host: "h1", recovered_by: "h2" });
      }

      // Nothing lost, nothing twice at once: each task ended once; h1's attempts never ended (killed),
      // and no run of S1 or S2 (the shared file) overlapped another, h1's counted until its death.
      const upToDeath = (i: Interval): Interval => (i.end === null ? { ...i, end: killedAt } : i);
      const shared = [...readRecord(ctx, "S1"), ...readRecord(ctx, "S2")].map(upToDeath);
      for (let i = 0; i < shared.length; i++) for (let j = i + 1; j < shared.length; j++) expect(overlap(shared[i]!, shared[j]!)).toBe(false);
      for (const task of ["S1", "T"]) {
        const rec = readRecord(ctx, task);
        expect(rec.map((r) => [r.attempt, r.end === null])).toEqual([
          [1, true],
          [2, false],
        ]);
        expect(rec[1]!.start).toBeGreaterThan(killedAt);
      }
      expect(readRecord(ctx, "Z")).toHaveLength(1);

      // The dead host comes back and reports its attempt's end, pid and progress: refused, nothing changes.
      const before = JSON.stringify([runsOf(s, "p"), statuses(s, "p")]);
      expect(finish(s, { project: "p", task: "S1", attempt: 1, end: { kind: "success", exitCode: 0 }, backoffS: 0 })).toEqual({ ok: false, status: "DONE" });
      expect(
        finish(s, { project: "p", task: "T", attempt: 1, end: { kind: "failed", exitCode: 1, signal: null, error: "late", failureKind: "exit_code" }, backoffS: 0 }),
      ).toEqual({ ok: false, status: "DONE" });
      expect(recordSpawn(s, { project: "p", order: "O", task: "S1", attempt: 1, pid: 4242, procStart: null })).toBe(false);
      expect(recordProgress(s, { project: "p", task: "S1", attempt: 1, done: 1, total: 2, label: null })).toBe(false);
      expect(JSON.stringify([runsOf(s, "p"), statuses(s, "p")])).toBe(before);
      const ends = s.conn.prepare("SELECT COUNT(*) FROM events WHERE project_id = 'p' AND task_id = 'S1' AND kind = 'task_done'").pluck().get();
      expect(ends).toBe(1);
      // h1 is seen as dead, h2 alive.
      const st = await readJson(ctx, ["status", "p"]);
      expect(st.hosts.map((h: { host: string; alive: boolean }) => [h.host, h.alive])).toEqual([
        ["h1", false],
        ["h2", true],
      ]);
    } finally {
      s.close();
      await killTagged(h1.AIPM_TEST_TAG!);
      await killTagged(h2.AIPM_TEST_TAG!);
    }
  }, 90_000);

  it("a host that was frozen past the lease comes back: it kills its worker whose attempt the other host recovered, and records no second end", async () => {
    const ctx = setup({ AIPM_HOST_LEASE_S: "2" });
    // Attempt 1 would run 20 s; the recovered attempt (2) is quick.
    const body = 'if [ "$AIPM_ATTEMPT" = 1 ]; then sleep 20; else sleep 0.2; fi';
    await importOnHosts(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: recorded(ctx, "A", body), target_files: ["a.txt"] }] }] });
    const h1 = hostEnv(ctx, "h1");
    const h2 = hostEnv(ctx, "h2");
    const s = await store(ctx);
    try {
      expect((await aipm(ctx, ["parallel-launch", "p", "O"], { env: h1 })).code).toBe(0);
      await waitFor(() => readRecord(ctx, "A").length === 1 && supervisorProcesses(h1.AIPM_TEST_TAG!).length === 1, { what: "A to start on h1" });
      const pidOf1 = () => s.conn.prepare("SELECT pid FROM runs WHERE task_id = 'A' AND attempt = 1").pluck().get() as number | null;
      await waitFor(() => pidOf1() !== null, { what: "A's worker pid recorded" });
      const workerPid = pidOf1()!;
      // h1's aipm processes freeze (its supervisor and spawner); its worker runs on.
      const frozen = taggedProcesses(h1.AIPM_TEST_TAG!)
        .filter((p) => p.cmdline.some((a) => a.endsWith("supervise.js") || a.endsWith("spawner.js")))
        .map((p) => p.pid);
      expect(frozen.length).toBeGreaterThan(0);
      for (const pid of frozen) process.kill(pid, "SIGSTOP");
      const h2wait = start(ctx, ["--json", "wait", "p", "O", "--timeout", "60"], { env: h2 });
      // h2 recovers A after the lease and runs it again (the split's price: both run for a moment).
      await waitFor(() => readRecord(ctx, "A").length === 2, { what: "A's second attempt on h2", timeoutMs: 20_000 });
      expect(alive(workerPid)).toBe(true);
      for (const pid of frozen) process.kill(pid, "SIGCONT");
      const thawedAt = Date.now();
      // Back, h1's supervisor finds its heartbeat was past the lease and kills its worker, long before its 20 s.
      await waitFor(() => !alive(workerPid), { what: "h1 to kill its recovered worker", timeoutMs: 10_000 });
      expect(Date.now() - thawedAt).toBeLessThan(8000);
      const w = await h2wait.done;
      expect(w.code, w.stderr).toBe(0);
      expect(readRecord(ctx, "A").map((r) => [r.attempt, r.end === null])).toEqual([
        [1, true],
        [2, false],
      ]);
      expect(runsOf(s, "p").map((r) => [r.attempt, r.host, r.outcome])).toEqual([
        [1, "h1", "crashed"],
        [2, "h2", "succeeded"],
      ]);
      expect(s.conn.prepare("SELECT kind FROM events WHERE task_id = 'A' AND kind IN ('task_done', 'task_retry', 'task_failed') ORDER BY id").pluck().all()).toEqual([
        "task_retry",
        "task_done",
      ]);
      expect(statuses(s, "p")).toEqual({ A: "DONE" });
    } finally {
      s.close();
      await killTagged(h1.AIPM_TEST_TAG!);
      await killTagged(h2.AIPM_TEST_TAG!);
    }
  }, 90_000);

  it("an attempt is recovered once, by one host, and only while it is still the silent host's", async () => {
    const ctx = setup({ AIPM_HOST_LEASE_S: "1" });
    await importOnHosts(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: ["sleep", "30"], target_files: ["a.txt"] }] }] });
    const h1 = hostEnv(ctx, "h1");
    try {
      expect((await aipm(ctx, ["parallel-launch", "p", "O"], { env: h1 })).code).toBe(0);
      const s = await store(ctx);
      await waitFor(() => statuses(s, "p").A === "IN_PROGRESS");
      // h1 still beats: nothing to recover.
      expect(recoverSilentHosts(s, { project: "p", host: "h2", leaseS: 1, backoffS: 0 })).toEqual([]);
      // Found silent by a read that is already stale when the transition runs (h1 beat since): the
      // guard, inside the transition, keeps h1's attempt.
      beatHost(s, { host: "h1", labels: [] });
      expect(recoverLost(s, { project: "p", task: "A", attempt: 1, host: "h1", by: "h2", heartbeatAt: 0, leaseS: 1, backoffS: 0 }).ok).toBe(false);
      expect(statuses(s, "p").A).toBe("IN_PROGRESS");
      await killTagged(h1.AIPM_TEST_TAG!);
      await waitFor(() => recoverSilentHosts(s, { project: "p", host: "h2", leaseS: 1, backoffS: 0 }).length > 0 || statuses(s, "p").A !== "IN_PROGRESS", {
        what: "h1's lease to run out",
      });
      // Recovered by h2 (once); h3 coming a moment later finds nothing; the lock is gone.
      expect(recoverSilentHosts(s, { project: "p", host: "h3", leaseS: 1, backoffS: 0 })).toEqual([]);
      expect(s.conn.prepare("SELECT COUNT(*) FROM events WHERE task_id = 'A' AND kind = 'task_retry'").pluck().get()).toBe(1);
      expect(s.conn.prepare("SELECT COUNT(*) FROM locks").pluck().get()).toBe(0);
      expect(s.conn.prepare("SELECT status, attempt, spent_attempts, failure_kind FROM tasks WHERE id = 'A'").get()).toEqual({
        status: "QUEUED",
        attempt: 1,
        spent_attempts: 1,
        failure_kind: "crashed",
      });
      s.close();
    } finally {
      await killTagged(h1.AIPM_TEST_TAG!);
    }
  }, 60_000);
});
