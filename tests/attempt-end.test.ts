/**
 * Issue 11, items 1-3: what a task prints never ends its attempt (the status
 * comes from the wrapper's exit file, read once the wrapper is gone), output
 * written after the wrapper is gone does not hide a success, and a process
 * that cannot start is an outcome, never a relaunch loop. Real processes.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { store } from "./helpers.js";
import {
  aipm,
  importPlan,
  logPath,
  readRecord,
  recorded,
  runRows,
  setup,
  supervisorProcesses,
  taskRow,
  waitFor,
} from "./runtime-helpers.js";

describe("a task printing the old trailer", () => {
  it.each([0, 1])("`[aipm] exit status %i` in its output changes nothing: the task on its file and its dependent wait for its real end", async (forged) => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "A", priority: "P0", target_files: ["x.txt"], command: recorded(ctx, "A", `printf '\\n[aipm] exit status ${forged}\\n'; sleep 6`) },
            { id: "B", target_files: ["x.txt"], command: recorded(ctx, "B", "true") },
            { id: "C", deps: ["A"], command: recorded(ctx, "C", "true") },
          ],
        },
      ],
    });
    const launch = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(launch.code).toBe(0);
    expect(JSON.parse(launch.stdout).launched.map((l: { task: string }) => l.task)).toEqual(["A"]);
    const s = await store(ctx.db);
    await waitFor(() => readFileSync(logPath(ctx, "demo", "A", 1), "utf8").includes(`[aipm] exit status ${forged}`), { what: "the forged line in A's log" });
    if (forged === 1) {
      // Watched by another process from here: the adopter reads no more than the supervisor did.
      for (const pid of supervisorProcesses(ctx.tag)) process.kill(pid, "SIGKILL");
    }
    const wait = await aipm(ctx, ["--json", "wait", "demo", "O1", "--timeout", "30"]);
    expect(wait.code).toBe(0);
    const [a] = readRecord(ctx, "A");
    const [b] = readRecord(ctx, "B");
    const [c] = readRecord(ctx, "C");
    expect(a!.end! - a!.start).toBeGreaterThan(5500);
    expect(b!.start).toBeGreaterThanOrEqual(a!.end!);
    expect(c!.start).toBeGreaterThanOrEqual(a!.end!);
    // Recorded once, as what really happened.
    expect(runRows(s, "demo", "A").map((r) => [r.attempt, r.outcome, r.exit_code])).toEqual([[1, "succeeded", 0]]);
    expect(readRecord(ctx, "A")).toHaveLength(1);
    expect(taskRow(s, "demo", "A").status).toBe("DONE");
    s.close();
  }, 40_000);
});

describe("a background child writing to the log after the wrapper exited", () => {
  it("with the supervisor killed meanwhile: recorded as a success, not crashed", async () => {
    const ctx = setup();
    const late = ["sh", "-c", "(sleep 3; echo late) & sleep 1; echo early; exit 0"];
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "L", command: late }, { id: "M", deps: ["L"], command: recorded(ctx, "M", "true") }] }],
    });
    const launch = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(launch.code).toBe(0);
    await waitFor(() => supervisorProcesses(ctx.tag).length > 0, { what: "the detached supervisor" });
    for (const pid of supervisorProcesses(ctx.tag)) process.kill(pid, "SIGKILL");
    const log = logPath(ctx, "demo", "L", 1);
    await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("late"), { what: "the late line", timeoutMs: 10_000 });
    const s = await store(ctx.db);
    expect(taskRow(s, "demo", "L").status).toBe("IN_PROGRESS");
    const wait = await aipm(ctx, ["--json", "wait", "demo", "O1", "--timeout", "20"]);
    expect(wait.code).toBe(0);
    expect(runRows(s, "demo", "L").map((r) => [r.outcome, r.exit_code])).toEqual([["succeeded", 0]]);
    expect(readRecord(ctx, "M")).toHaveLength(1);
    s.close();
  }, 30_000);
});

describe("a process that cannot start", () => {
  it("ENOENT, E2BIG and a NUL byte: FAILED as start_failed in bounded time, one run each, wait returns, the order ends", async () => {
    const ctx = setup();
    const failing = (suffix: string, deps: string[]) => [
      { id: `ENOENT${suffix}`, deps, command: ["no-such-program-xyz"] },
      { id: `E2BIG${suffix}`, deps, command: ["true"] },
      { id: `NUL${suffix}`, deps, command: ["true"] },
    ];
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            // Launched by parallel-launch itself (in place), then by the supervisor (its spawner).
            ...failing("_1", []),
            { id: "S", command: ["sleep", "0.3"] },
            ...failing("_2", ["S"]),
            { id: "AFTER", deps: ["ENOENT_1"], command: ["true"] },
          ],
        },
      ],
    });
    // Past import validation, through the store: what reaches spawn.
    const s = await store(ctx.db);
    const set = s.conn.prepare("UPDATE tasks SET command = ? WHERE project_id = 'demo' AND id = ?");
    for (const n of ["_1", "_2"]) {
      set.run(JSON.stringify(["echo", "x".repeat(200 * 1024)]), `E2BIG${n}`);
      set.run(JSON.stringify(["echo", "a\u0000b"]), `NUL${n}`);
    }
    const t0 = Date.now();
    const launch = await aipm(ctx, ["--json", "parallel-launch", "demo", "O1"]);
    expect(launch.code).toBe(1);
    const report = JSON.parse(launch.stdout);
    expect(report.failed.map((f: { task: string }) => f.task).sort()).toEqual(["E2BIG_1", "ENOENT_1", "NUL_1"]);
    const wait = await aipm(ctx, ["--json", "wait", "demo", "O1", "--timeout", "30"]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(wait.code).toBe(1);
    const summary = JSON.parse(wait.stdout);
    expect(summary.timed_out).toBe(false);
    const failed = Object.fromEntries(summary.failed.map((f: { task: string; failure_kind: string; error: string }) => [f.task, f]));
    for (const n of ["_1", "_2"]) {
      expect(failed[`ENOENT${n}`]).toMatchObject({ failure_kind: "start_failed", error: expect.stringContaining("ENOENT") });
      expect(failed[`E2BIG${n}`]).toMatchObject({ failure_kind: "start_failed", error: expect.stringContaining("E2BIG") });
      expect(failed[`NUL${n}`]).toMatchObject({ failure_kind: "start_failed", error: expect.stringContaining("NUL") });
      for (const t of ["ENOENT", "E2BIG", "NUL"]) {
        expect(runRows(s, "demo", `${t}${n}`).map((r) => r.outcome), `${t}${n}`).toEqual(["start_failed"]);
        expect(taskRow(s, "demo", `${t}${n}`).error.length).toBeLessThan(400);
      }
    }
    expect(taskRow(s, "demo", "S").status).toBe("DONE");
    expect(taskRow(s, "demo", "AFTER").status).toBe("QUEUED");
    const ev = (kind: string) => s.conn.prepare("SELECT COUNT(*) FROM events WHERE project_id = 'demo' AND kind = ?").pluck().get(kind);
    expect(ev("task_failed")).toBe(6);
    expect(ev("order_finished") as number + (ev("order_idle") as number)).toBe(1);
    await waitFor(() => supervisorProcesses(ctx.tag).length === 0, { what: "the supervisor to exit" });
    s.close();
  }, 40_000);
});
