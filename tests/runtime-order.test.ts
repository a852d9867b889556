/**
 * Runtime, end to end with the built binary: an order runs to its end in
 * dependency order, without conflicting tasks overlapping, under the worker
 * limit; with or without a foreground supervisor; `wait`, retries, blocked
 * dependents, `execute-task` and the `enqueue` FIFO. Every task records its
 * own start and end times; the assertions are made from those records.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, store } from "./helpers.js";
import {
  DAG,
  aipm,
  alive,
  allDone,
  checkDagRecords,
  dagPlan,
  importPlan,
  logPath,
  loggedSupervisorPids,
  maxConcurrent,
  readJson,
  readRecord,
  recorded,
  runRows,
  setup,
  statusTasks,
  supervisorProcesses,
  taskStatus,
  waitFor,
  type Ctx,
} from "./runtime-helpers.js";

describe("an order runs to its end", () => {
  it("parallel-launch --wait: dependencies first, no conflicting overlap, never more than max workers", async () => {
    const ctx = setup();
    await importPlan(ctx, dagPlan(ctx));
    const r = await aipm(ctx, ["parallel-launch", "demo", "O1", "--wait", "--max-workers", "3"]);
    expect(r.stderr).not.toMatch(/Error|at .*\.js:\d+/);
    expect(r.code).toBe(0);
    const tasks = await statusTasks(ctx, "demo", "O1");
    expect(tasks.map((t) => [t.task, t.status])).toEqual(DAG.map((t) => [t.id, "DONE"]));
    const recs = checkDagRecords(ctx, 3);
    // The limit was actually used: independent tasks ran side by side.
    expect(maxConcurrent(recs)).toBeGreaterThan(1);
    // Every task ran in the project root.
    for (const rec of recs) expect(rec.cwd).toBe(join(ctx.dir, "ws"));
    expect((await readJson(ctx, ["locks"])).locks).toEqual([]);
  });

  it("parallel-launch --wait: a task that ends before its supervisor watches it is still recorded (no lost end, no hang)", async () => {
    // `true` ends within a millisecond or two: the first wave ends while the launching process
    // is still getting its supervisor ready. Each end must be recorded all the same.
    const ctx = setup();
    const tasks = Array.from({ length: 24 }, (_, i) => ({ id: `q${i}`, command: ["true"] }));
    await importPlan(ctx, { project: "demo", root: "./ws", orders: [{ id: "O1", tasks }] });
    const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1", "--wait", "--timeout", "20", "--max-workers", "8"]);
    expect(r.code).toBe(0);
    expect((await statusTasks(ctx, "demo", "O1")).filter((t) => t.status !== "DONE")).toEqual([]);
  });

  it("parallel-launch without --wait returns at once; a detached supervisor runs the order to its end and exits", async () => {
    const ctx = setup();
    await importPlan(ctx, dagPlan(ctx, "sleep 0.5"));
    // Opened before the launch: on PostgreSQL opening a store (a client's worker thread) can take
    // longer than the launched tasks' 0.5 s on a busy machine, and the check below must come first.
    const s = await store(ctx.db);
    const t0 = Date.now();
    const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1", "--max-workers", "3"]);
    const launchMs = Date.now() - t0;
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.launched.length).toBeGreaterThan(0);
    expect(report.launched.length).toBeLessThanOrEqual(3);
    for (const l of report.launched) {
      expect(l.pid).toBeGreaterThan(0);
      expect(l.attempt).toBe(1);
    }
    // It returned while the tasks it launched were still running.
    const statusOf = (id: string) => s.conn.prepare("SELECT status FROM tasks WHERE project_id = 'demo' AND id = ?").pluck().get(id);
    const stillRunning = report.launched.filter((l: { task: string }) => readRecord(ctx, l.task).every((i) => i.end === null));
    expect(stillRunning.length, `launch took ${launchMs} ms`).toBeGreaterThan(0);
    for (const l of stillRunning) expect(statusOf(l.task)).toBe("IN_PROGRESS");

    // No other aipm command from here: poll the database file itself.
    const leaseHolders = new Set<number>();
    await waitFor(
      () => {
        const lease = s.conn.prepare("SELECT pid FROM supervisors WHERE project_id = 'demo'").pluck().get() as number | undefined;
        if (lease !== undefined) leaseHolders.add(lease);
        return allDone(s, "demo", DAG.length);
      },
      { what: "every task DONE", timeoutMs: 25_000 },
    );
    checkDagRecords(ctx, 3);

    // The supervisor that ran it was a detached supervise.js process, and it exits now that the project is idle.
    const pids = new Set([...leaseHolders, ...loggedSupervisorPids(ctx, "demo")]);
    expect(pids.size).toBeGreaterThan(0);
    await waitFor(() => [...pids].every((p) => !alive(p)) && supervisorProcesses(ctx.tag).length === 0, {
      what: "the detached supervisor to exit",
    });
    expect(s.conn.prepare("SELECT COUNT(*) FROM supervisors WHERE project_id = 'demo'").pluck().get()).toBe(0);
    expect(readFileSync(join(ctx.dbDir, "logs", "demo", "supervisor.log"), "utf8")).toMatch(/supervisor \d+ done/);
    const tasks = await statusTasks(ctx, "demo", "O1");
    expect(tasks.every((t) => t.status === "DONE")).toBe(true);
  });
});

describe("wait", () => {
  it("--json prints the contract's summary when the order ends", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "A", command: recorded(ctx, "A", "sleep 0.2") },
            { id: "B", deps: ["A"], command: recorded(ctx, "B", "sleep 0.2") },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const key of ["project", "order", "done", "timed_out", "counts", "failed", "elapsed_s"]) expect(s).toHaveProperty(key);
    expect(s).toMatchObject({ project: "demo", order: "O1", done: true, timed_out: false, failed: [] });
    expect(s.counts).toMatchObject({ QUEUED: 0, IN_PROGRESS: 0, REVIEW: 0, DONE: 2, FAILED: 0, CANCELLED: 0 });
    expect(typeof s.elapsed_s).toBe("number");
    expect(s.elapsed_s).toBeGreaterThan(0.3); // it ran both tasks, one after the other
    expect(readRecord(ctx, "A")[0]!.end!).toBeLessThan(readRecord(ctx, "B")[0]!.start);
  });

  it("--timeout gives up on a long order: timed_out true, exit 1", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "LONG", command: recorded(ctx, "LONG", "sleep 30") }] }],
    });
    const t0 = Date.now();
    const r = await aipm(ctx, ["--json", "wait", "demo", "O1", "--timeout", "0.5"]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ project: "demo", order: "O1", done: false, timed_out: true });
    expect(s.counts.IN_PROGRESS).toBe(1);
    // The order is still running: a timed-out wait does not stop it.
    expect((await taskStatus(ctx, "demo", "LONG")).status).toBe("IN_PROGRESS");
  });

  it("again on a finished order with a blocked task, resources measured: the summary, exit 1, nothing on stderr", async () => {
    // Regression: a launch pass scheduled before the supervisor stopped went on, after the
    // resource sample, on a store the command had closed (a stack trace after the summary).
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "F", command: ["false"], max_attempts: 1 }, { id: "G", deps: ["F"], command: ["true"] }] }],
    });
    expect((await aipm(ctx, ["wait", "demo", "O1"])).code).toBe(1);
    for (let i = 0; i < 3; i++) {
      const r = await aipm(ctx, ["wait", "demo", "O1"], { env: { AIPM_ENABLE_MONITORING: "true" } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAILED F after 1 attempt/);
    }
  });
});

describe("retries and blocked dependents", () => {
  it("a failing task is retried after the backoff, then FAILED; its dependent is blocked; wait reports it", async () => {
    const ctx = setup({ AIPM_RETRY_BACKOFF_S: "0.5" });
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "BAD", max_attempts: 2, command: recorded(ctx, "BAD", "echo failing-now; exit 3") },
            { id: "AFTER", deps: ["BAD"], command: recorded(ctx, "AFTER", "true") },
            { id: "OK", command: recorded(ctx, "OK", "true") },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ project: "demo", order: "O1", done: false, timed_out: false });
    expect(summary.counts).toMatchObject({ FAILED: 1, DONE: 1, QUEUED: 1, IN_PROGRESS: 0 });
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]).toMatchObject({ task: "BAD", log: logPath(ctx, "demo", "BAD", 2) });
    expect(summary.failed[0].error).toMatch(/exit code 3/);

    // Two attempts, the second after the backoff.
    const recs = readRecord(ctx, "BAD");
    expect(recs.map((x) => x.attempt)).toEqual([1, 2]);
    expect(recs[1]!.start - recs[0]!.end!).toBeGreaterThanOrEqual(500);
    const s = await store(ctx.db);
    const runs = s.conn
      .prepare("SELECT attempt, outcome, exit_code FROM runs WHERE project_id = 'demo' AND task_id = 'BAD' ORDER BY attempt")
      .all();
    expect(runs).toEqual([
      { attempt: 1, outcome: "exit_code", exit_code: 3 },
      { attempt: 2, outcome: "exit_code", exit_code: 3 },
    ]);
    expect(readdirSync(join(ctx.dbDir, "logs", "demo", "BAD")).filter((f) => f.endsWith(".log")).sort()).toEqual(["1.log", "2.log"]);
    for (const n of [1, 2]) {
      const log = readFileSync(logPath(ctx, "demo", "BAD", n), "utf8");
      expect(log).toContain("failing-now");
      expect(log).not.toContain("[aipm]");
      expect(readFileSync(logPath(ctx, "demo", "BAD", n).replace(/\.log$/, ".exit"), "utf8")).toBe("3\n");
    }

    // The dependent never ran and shows as blocked.
    expect(readRecord(ctx, "AFTER")).toEqual([]);
    const tasks = await statusTasks(ctx, "demo", "O1");
    expect(tasks.find((t) => t.task === "BAD")).toMatchObject({ status: "FAILED", attempt: 2, exit_code: 3 });
    expect(tasks.find((t) => t.task === "AFTER")).toMatchObject({ status: "QUEUED", blocked: true });
    expect(tasks.find((t) => t.task === "OK")).toMatchObject({ status: "DONE", blocked: false });

    // Waiting again ends at once with the same verdict.
    const again = await aipm(ctx, ["--json", "wait", "demo", "O1", "--timeout", "10"]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ done: false, timed_out: false });
  });
});

describe("execute-task", () => {
  it("exit codes: 0 for a task that succeeds (its output on stdout), 1 when every attempt fails, 2 for an unknown task", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "GOOD", command: recorded(ctx, "GOOD", "echo hello-from-good-task") },
            { id: "BAD", max_attempts: 2, command: recorded(ctx, "BAD", "echo bad-output; exit 3") },
          ],
        },
      ],
    });
    const good = await aipm(ctx, ["execute-task", "demo", "GOOD"]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("hello-from-good-task");
    expect((await taskStatus(ctx, "demo", "GOOD")).status).toBe("DONE");
    expect(readRecord(ctx, "GOOD")).toHaveLength(1);

    const bad = await aipm(ctx, ["execute-task", "demo", "BAD"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("bad-output");
    expect((await taskStatus(ctx, "demo", "BAD")).status).toBe("FAILED");
    expect(readRecord(ctx, "BAD").map((x) => x.attempt)).toEqual([1, 2]);

    const unknown = await aipm(ctx, ["execute-task", "demo", "NOPE"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/NOPE/);

    const underscore = await aipm(ctx, ["--json", "execute_task", "demo", "NOPE"]);
    expect(underscore.code).toBe(2);
  });
});

describe("enqueue", () => {
  /** Waits until the queue's supervisor has had a housekeeping tick (it re-reads the project) after `since`. */
  async function supervisorCaughtUp(ctx: Ctx, since: number): Promise<void> {
    const s = await store(ctx.db);
    await waitFor(
      () => {
        const hb = s.conn.prepare("SELECT heartbeat_at FROM supervisors WHERE project_id = 'default'").pluck().get() as number | undefined;
        return hb !== undefined && hb > since;
      },
      { what: "the queue's supervisor to look again", intervalMs: 5 },
    );
  }

  it("runs commands FIFO, one at a time by default, in the directory they were enqueued from", async () => {
    const ctx = setup();
    const cwd = join(ctx.dir, "somewhere", "else");
    mkdirSync(cwd, { recursive: true });
    const gate = join(ctx.dir, "gate");
    const names = ["q1", "q2", "q3", "q4"];
    const results = [];
    for (const n of names) {
      // q1 holds the only slot until the gate opens, so q2..q4 wait in the queue.
      const body = n === "q1" ? 'while [ ! -e "$1" ]; do sleep 0.02; done; sleep 0.2' : "sleep 0.2";
      const r = await aipm(ctx, ["--json", "enqueue", n, "--", ...recorded(ctx, n, body, n === "q1" ? [gate] : [])], { cwd });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      results.push(JSON.parse(r.stdout));
    }
    expect(results[0]).toMatchObject({ project: "default", order: "QUEUE", task: "q1", started: true });
    expect(results[0].pid).toBeGreaterThan(0);
    for (const [i, r] of results.slice(1).entries()) {
      expect(r).toMatchObject({ project: "default", order: "QUEUE", task: names[i + 1], started: false, pid: null });
    }
    const queued = await statusTasks(ctx, "default", "QUEUE");
    expect(queued.map((t) => [t.task, t.order, t.status])).toEqual([
      ["q1", "QUEUE", "IN_PROGRESS"],
      ["q2", "QUEUE", "QUEUED"],
      ["q3", "QUEUE", "QUEUED"],
      ["q4", "QUEUE", "QUEUED"],
    ]);
    // Open the gate only once the supervisor has seen the whole queue: a command enqueued just
    // before the running one ends is another case (the test below).
    await supervisorCaughtUp(ctx, Date.now());
    writeFileSync(gate, "");

    const s = await store(ctx.db);
    await waitFor(() => allDone(s, "default", 4), { what: "the queue to drain" });
    const recs = names.map((n) => {
      const r = readRecord(ctx, n);
      expect(r, n).toHaveLength(1);
      return r[0]!;
    });
    for (let i = 1; i < recs.length; i++) {
      expect(recs[i - 1]!.end!, `${names[i - 1]} ended before ${names[i]} started`).toBeLessThan(recs[i]!.start);
    }
    expect(maxConcurrent(recs)).toBe(1);
    for (const r of recs) expect(r.cwd).toBe(cwd);
    const status = await readJson(ctx, ["status"]);
    expect(status.tasks.map((t: { task: string; project: string; order: string; status: string }) => [t.task, t.project, t.order, t.status])).toEqual(
      names.map((n) => [n, "default", "QUEUE", "DONE"]),
    );
    await waitFor(() => supervisorProcesses(ctx.tag).length === 0, { what: "the queue's supervisor to exit" });
  });

  // Regression: the supervisor used to settle the order against its cached view of the project,
  // which did not hold a command enqueued by another process since its last re-read; the order
  // was marked finished and the new command stayed QUEUED with nobody to start it.
  it("a command enqueued just before the running one ends still runs", async () => {
    const ctx = setup({ AIPM_POLL_MS: "50" });
    const gate = join(ctx.dir, "gate");
    const first = await aipm(ctx, ["--json", "enqueue", "first", "--", ...recorded(ctx, "first", 'while [ ! -e "$1" ]; do sleep 0.01; done', [gate])]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ started: true });
    // Right after the supervisor's periodic look at the project...
    const s = await store(ctx.db);
    await waitFor(() => s.conn.prepare("SELECT 1 FROM supervisors WHERE project_id = 'default'").get(), { what: "a supervisor" });
    await supervisorCaughtUp(ctx, Date.now());
    // ...enqueue a second command (in-process: fast) and let the first one end.
    const second = await cli(["--db", ctx.db, "--json", "enqueue", "second", "--", ...recorded(ctx, "second", "true")], {
      cwd: ctx.dir,
      env: ctx.env,
    });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ task: "second", started: false });
    writeFileSync(gate, "");
    await waitFor(() => allDone(s, "default", 2), { what: "both commands DONE", timeoutMs: 5_000 });
    expect(readRecord(ctx, "second")).toHaveLength(1);
  });
});

describe("a supervisor's own launches", () => {
  // Regression: an attempt this very process had claimed and was still starting through its
  // spawner (runs.pid still NULL) used to be taken for a claim whose launcher died and rolled
  // back, so the task was launched a second time. A poll interval shorter than the spawner's
  // start-up made every task of a supervisor's first pass run twice.
  it("a task launched by a supervisor's first pass runs exactly once", async () => {
    const ctx = setup({ AIPM_POLL_MS: "20" });
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "ONCE", target_files: ["once.txt"], command: recorded(ctx, "ONCE", "sleep 0.3") }] }],
    });
    const r = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(r.code).toBe(0);
    // Its worker has ended by now (wait returned); the record shows every process that ran it.
    await waitFor(() => readRecord(ctx, "ONCE").every((i) => i.end !== null), { what: "every run of ONCE to end" });
    expect(readRecord(ctx, "ONCE")).toHaveLength(1);
    const s = await store(ctx.db);
    expect(runRows(s, "demo", "ONCE").map((x) => [x.attempt, x.outcome])).toEqual([[1, "succeeded"]]);
  });
});
