/**
 * Runtime under concurrency and failure, with real processes and signals:
 * launchers racing on one order, workers and supervisors killed with
 * SIGKILL, `aipm kill` of a task with children, stall and time limits, a
 * program that does not exist, progress lines.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { store } from "./helpers.js";
import {
  DAG,
  aipm,
  alive,
  allDone,
  checkDagRecords,
  dagPlan,
  groupMembers,
  importPlan,
  readJson,
  readRecord,
  recorded,
  runRows,
  setup,
  start,
  statuses,
  supervisorProcesses,
  taskRow,
  taskStatus,
  waitFor,
} from "./runtime-helpers.js";

describe("launchers racing", () => {
  it("6 parallel-launch processes at once: no task launched twice, no conflicting overlap, the limit holds, the order completes", async () => {
    const ctx = setup();
    await importPlan(ctx, dagPlan(ctx, "sleep 0.4"));
    const launchers = Array.from({ length: 6 }, () => start(ctx, ["--json", "parallel-launch", "demo", "O1", "--max-workers", "3"]));
    const results = await Promise.all(launchers.map((l) => l.done));
    const launched: string[] = [];
    for (const r of results) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.failed).toEqual([]);
      for (const l of report.launched) launched.push(l.task);
    }
    expect(launched.length).toBeGreaterThan(0);
    expect(new Set(launched).size, `launched twice: ${launched.join(",")}`).toBe(launched.length);

    const s = await store(ctx.db);
    await waitFor(() => allDone(s, "demo", DAG.length), { what: "every task DONE" });
    // Exactly one attempt per task, and it succeeded.
    expect(runRows(s, "demo").map((r) => [r.task_id, r.attempt, r.outcome])).toEqual(
      [...DAG.map((t) => t.id)].sort().map((id) => [id, 1, "succeeded"]),
    );
    checkDagRecords(ctx, 3);
  });
});

describe("a worker killed with SIGKILL", () => {
  it.each([
    ["watched by the detached supervisor", false],
    ["a child of parallel-launch --wait", true],
  ])("(%s) fails that attempt as crashed/signal, is retried and ends DONE", async (_name, foreground) => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            {
              id: "T",
              max_attempts: 2,
              target_files: ["t.txt"],
              command: recorded(ctx, "T", 'if [ "$AIPM_ATTEMPT" = 1 ]; then sleep 30; fi'),
            },
          ],
        },
      ],
    });
    const s = await store(ctx.db);
    let pid: number;
    let waiter: ReturnType<typeof start> | null = null;
    if (foreground) {
      waiter = start(ctx, ["--json", "parallel-launch", "demo", "O1", "--wait"]);
      pid = await waitFor(() => (taskRow(s, "demo", "T").status === "IN_PROGRESS" ? (taskRow(s, "demo", "T").pid as number | null) : null), {
        what: "T to run",
      });
    } else {
      const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
      expect(r.code).toBe(0);
      const launched = JSON.parse(r.stdout).launched;
      expect(launched).toEqual([{ task: "T", pid: expect.any(Number), attempt: 1, host: expect.any(String) }]);
      pid = launched[0].pid;
    }
    expect((await taskStatus(ctx, "demo", "T")).pid).toBe(pid);
    await waitFor(() => readRecord(ctx, "T").length === 1, { what: "T's first attempt to start" });
    expect(groupMembers(pid)).toContain(pid); // the pid leads the task's process group
    process.kill(-pid, "SIGKILL");

    await waitFor(() => taskRow(s, "demo", "T").status === "DONE", { what: "T DONE after a retry" });
    const runs = runRows(s, "demo", "T");
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ attempt: 1 });
    expect(["crashed", "signal"]).toContain(runs[0]!.outcome);
    expect(runs[1]).toMatchObject({ attempt: 2, outcome: "succeeded", exit_code: 0 });
    const recs = readRecord(ctx, "T");
    expect(recs.map((r) => [r.attempt, r.end !== null])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(taskRow(s, "demo", "T")).toMatchObject({ attempt: 2, status: "DONE" });
    if (waiter) expect((await waiter.done).code).toBe(0);
  });
});

describe("the supervising aipm process killed with SIGKILL", () => {
  it("leaves running tasks running; a later `wait` records their ends and completes the order, with nothing run twice", async () => {
    const ctx = setup();
    const long = "sleep 1.5";
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "W1", target_files: ["w1"], command: recorded(ctx, "W1", long) },
            { id: "W2", target_files: ["w2"], command: recorded(ctx, "W2", long) },
            { id: "W3", target_files: ["w3"], command: recorded(ctx, "W3", long) },
            { id: "S1", deps: ["W1"], command: recorded(ctx, "S1", "sleep 0.2") },
            { id: "S2", deps: ["W2", "W3"], command: recorded(ctx, "S2", "sleep 0.2") },
            { id: "S3", deps: ["S1"], command: recorded(ctx, "S3", "sleep 0.2") },
          ],
        },
      ],
    });
    const waves = ["W1", "W2", "W3"];
    const sup = start(ctx, ["parallel-launch", "demo", "O1", "--wait", "--max-workers", "3"]);
    await waitFor(() => waves.every((t) => readRecord(ctx, t).length === 1), { what: "the first wave to start" });
    sup.child.kill("SIGKILL");
    const r = await sup.done;
    expect(r.code).not.toBe(0);
    expect(alive(sup.child.pid!)).toBe(false);

    // Nobody supervises now (no aipm command is run until the first wave has ended): the tasks go on.
    const s = await store(ctx.db);
    await waitFor(() => waves.every((t) => readRecord(ctx, t)[0]?.end != null), { what: "the first wave to finish on its own" });
    expect(supervisorProcesses(ctx.tag)).toEqual([]);
    for (const t of waves) expect(taskRow(s, "demo", t).status).toBe("IN_PROGRESS"); // not recorded yet
    for (const t of ["S1", "S2", "S3"]) expect(readRecord(ctx, t)).toEqual([]);

    const w = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ done: true, timed_out: false, failed: [] });
    expect(statuses(s, "demo")).toEqual({ W1: "DONE", W2: "DONE", W3: "DONE", S1: "DONE", S2: "DONE", S3: "DONE" });
    // No exit status lost, nothing retried.
    expect(runRows(s, "demo").map((x) => [x.task_id, x.attempt, x.outcome, x.exit_code])).toEqual(
      ["S1", "S2", "S3", "W1", "W2", "W3"].map((t) => [t, 1, "succeeded", 0]),
    );
    for (const t of ["W1", "W2", "W3", "S1", "S2", "S3"]) expect(readRecord(ctx, t), t).toHaveLength(1);
    expect(readRecord(ctx, "W1")[0]!.end!).toBeLessThan(readRecord(ctx, "S1")[0]!.start);
    expect(readRecord(ctx, "S1")[0]!.end!).toBeLessThan(readRecord(ctx, "S3")[0]!.start);
  });
});

describe("aipm kill", () => {
  it("stops a task and every process it started, releases its locks (CANCELLED); --requeue runs it again", async () => {
    const ctx = setup({ AIPM_KILL_GRACE_S: "1" });
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "K", target_files: ["src/k.ts"], command: ["sh", "-c", "sleep 30 & sleep 30 & wait"] },
            {
              id: "R",
              target_files: ["src/r.ts"],
              command: recorded(ctx, "R", 'if [ "$AIPM_ATTEMPT" = 1 ]; then sleep 30; fi'),
            },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(r.code).toBe(0);
    const launched = JSON.parse(r.stdout).launched as Array<{ task: string; pid: number }>;
    const kPid = launched.find((l) => l.task === "K")!.pid;
    // wrapper, sh -c, two sleeps
    const members = await waitFor(() => {
      const m = groupMembers(kPid);
      return m.length >= 4 ? m : null;
    }, { what: "K's children to start" });
    expect((await readJson(ctx, ["locks", "demo"])).locks.map((l: { file: string; task: string }) => [l.file, l.task]).sort()).toEqual([
      ["src/k.ts", "K"],
      ["src/r.ts", "R"],
    ]);

    const k = await aipm(ctx, ["--json", "kill", "K"]);
    expect(k.stderr).toBe("");
    expect(k.code).toBe(0);
    expect(JSON.parse(k.stdout)).toMatchObject({ project: "demo", task: "K", was: "IN_PROGRESS", status: "CANCELLED", pid: kPid });
    expect(groupMembers(kPid)).toEqual([]);
    for (const p of members) expect(alive(p), `process ${p} of K's group survived`).toBe(false);
    expect((await taskStatus(ctx, "demo", "K")).status).toBe("CANCELLED");
    expect((await readJson(ctx, ["locks", "demo"])).locks.map((l: { task: string }) => l.task)).toEqual(["R"]);

    // --requeue: back to QUEUED, then it runs again.
    await waitFor(() => readRecord(ctx, "R").length === 1, { what: "R to start" });
    const rPid = launched.find((l) => l.task === "R")!.pid;
    const q = await aipm(ctx, ["--json", "kill", "R", "--requeue"]);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ task: "R", was: "IN_PROGRESS", status: "QUEUED", pid: rPid });
    expect(groupMembers(rPid)).toEqual([]);
    const s = await store(ctx.db);
    await waitFor(() => taskRow(s, "demo", "R").status === "DONE", { what: "R to run again and end DONE" });
    expect(readRecord(ctx, "R").map((x) => [x.attempt, x.end !== null])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(runRows(s, "demo", "R").map((x) => [x.attempt, x.outcome])).toEqual([
      [1, "killed"],
      [2, "succeeded"],
    ]);
    expect(statuses(s, "demo")).toEqual({ K: "CANCELLED", R: "DONE" });
    expect((await readJson(ctx, ["locks"])).locks).toEqual([]);
  });
});

describe("limits", () => {
  it("a task silent for AIPM_STALL_KILL_S is killed and fails as stalled", async () => {
    const ctx = setup({ AIPM_STALL_KILL_S: "1", AIPM_STALL_WARN_S: "0.5" });
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "QUIET", max_attempts: 1, command: recorded(ctx, "QUIET", "sleep 30") }] }],
    });
    const t0 = Date.now();
    const w = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(w.code).toBe(1);
    const summary = JSON.parse(w.stdout);
    expect(summary).toMatchObject({ done: false, timed_out: false });
    expect(summary.failed).toEqual([expect.objectContaining({ task: "QUIET" })]);
    const s = await store(ctx.db);
    expect(taskRow(s, "demo", "QUIET")).toMatchObject({ status: "FAILED", failure_kind: "stalled" });
    expect(runRows(s, "demo", "QUIET").map((r) => r.outcome)).toEqual(["stalled"]);
    const kinds = s.conn.prepare("SELECT kind FROM events WHERE task_id = 'QUIET' ORDER BY id").pluck().all();
    expect(kinds).toEqual(expect.arrayContaining(["task_stall_warning", "task_stall_killed", "task_failed"]));
    const pid = runRows(s, "demo", "QUIET")[0]!.pid as number;
    expect(groupMembers(pid)).toEqual([]);
  });

  it("timeout_s kills the task and fails it as timeout, well before the command would end", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [{ id: "SLOW", max_attempts: 1, timeout_s: 0.5, command: recorded(ctx, "SLOW", "echo working; sleep 30") }],
        },
      ],
    });
    const t0 = Date.now();
    const w = await aipm(ctx, ["--json", "wait", "demo", "O1"]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(w.code).toBe(1);
    expect(JSON.parse(w.stdout).failed).toEqual([expect.objectContaining({ task: "SLOW" })]);
    const s = await store(ctx.db);
    expect(taskRow(s, "demo", "SLOW")).toMatchObject({ status: "FAILED", failure_kind: "timeout" });
    expect(runRows(s, "demo", "SLOW").map((r) => r.outcome)).toEqual(["timeout"]);
    const pid = runRows(s, "demo", "SLOW")[0]!.pid as number;
    expect(groupMembers(pid)).toEqual([]);
    const rec = readRecord(ctx, "SLOW");
    expect(rec).toHaveLength(1);
    expect(rec[0]!.end).toBeNull(); // killed mid-sleep
  });
});

describe("a worker that cannot start", () => {
  it("is reported under failed with ENOENT (exit 1), FAILED at once as start_failed with no locks; the others launch", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "X", priority: "P0", target_files: ["x.txt"], command: ["no-such-program-xyz"] },
            { id: "Y", target_files: ["y.txt"], command: recorded(ctx, "Y", "sleep 0.3") },
            { id: "Z", command: recorded(ctx, "Z", "sleep 0.3") },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.failed).toEqual([{ task: "X", error: expect.stringContaining("ENOENT") }]);
    expect(report.launched.map((l: { task: string }) => l.task).sort()).toEqual(["Y", "Z"]);

    const s = await store(ctx.db);
    await waitFor(() => taskRow(s, "demo", "Y").status === "DONE" && taskRow(s, "demo", "Z").status === "DONE", {
      what: "Y and Z DONE",
    });
    await waitFor(() => supervisorProcesses(ctx.tag).length === 0, { what: "the supervisor to exit" });
    const x = await taskStatus(ctx, "demo", "X");
    expect(x).toMatchObject({ status: "FAILED", pid: null, failure_kind: "start_failed" });
    expect(x.error).toContain("ENOENT");
    expect((await readJson(ctx, ["locks"])).locks).toEqual([]);
    // One claim, never claimed again: the start failure is the task's outcome.
    expect(runRows(s, "demo", "X").map((x) => x.outcome)).toEqual(["start_failed"]);
    expect(s.conn.prepare("SELECT COUNT(*) FROM events WHERE task_id = 'X' AND kind = 'task_failed'").pluck().get()).toBe(1);
  });
});

describe("progress", () => {
  it("AIPM_PROGRESS lines set the task's progress in status --json while it runs", async () => {
    const ctx = setup();
    const gate = join(ctx.dir, "gate");
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            {
              id: "P",
              command: recorded(ctx, "P", 'echo AIPM_PROGRESS 3/10; while [ ! -e "$1" ]; do sleep 0.02; done; echo AIPM_PROGRESS 10/10', [gate]),
            },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(r.code).toBe(0);
    const running = await waitFor(
      async () => {
        const t = await taskStatus(ctx, "demo", "P");
        return t.progress !== null ? t : null;
      },
      { what: "P's progress" },
    );
    expect(running).toMatchObject({ status: "IN_PROGRESS", progress: { done: 3, total: 10 } });
    writeFileSync(gate, "");
    const s = await store(ctx.db);
    await waitFor(() => taskRow(s, "demo", "P").status === "DONE", { what: "P DONE" });
  });
});
