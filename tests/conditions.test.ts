/**
 * Plans that branch on results (issue 13): `deps: [{task, on: success | failure | always}]`,
 * SKIPPED and its propagation, retry after a skip, and `aipm explain` — with
 * real processes, through the built binary.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { aipm, importPlan, readJson, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { store } from "./helpers.js";

/** tests → on failure: report → report2; on success: deploy; always: cleanup. */
function pipeline(ctx: Ctx, testsCommand: string) {
  return {
    project: "p",
    root: "./ws",
    orders: [
      {
        id: "O",
        tasks: [
          { id: "TESTS", command: ["sh", "-c", testsCommand], max_attempts: 1 },
          { id: "REPORT", command: ["true"], deps: [{ task: "TESTS", on: "failure" }] },
          { id: "REPORT2", command: ["true"], deps: ["REPORT"] },
          { id: "DEPLOY", command: ["true"], deps: [{ task: "TESTS", on: "success" }] },
          { id: "CLEANUP", command: ["true"], deps: [{ task: "TESTS", on: "always" }] },
        ],
      },
    ],
  };
}

async function statusMap(ctx: Ctx): Promise<Record<string, { status: string; blocked: boolean; error: string | null }>> {
  const s = await readJson(ctx, ["status", "p"]);
  return Object.fromEntries(s.tasks.map((t: any) => [t.task, { status: t.status, blocked: t.blocked, error: t.error }]));
}

describe("conditions on dependencies", () => {
  it("failing tests: the report runs, deploy is blocked, cleanup runs; wait says not done", async () => {
    const ctx = setup();
    await importPlan(ctx, pipeline(ctx, "exit 3"));
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O", "--wait"]);
    expect(r.code).toBe(1);
    const s = await statusMap(ctx);
    expect(s).toMatchObject({
      TESTS: { status: "FAILED" },
      REPORT: { status: "DONE" },
      REPORT2: { status: "DONE" },
      DEPLOY: { status: "QUEUED", blocked: true },
      CLEANUP: { status: "DONE" },
    });
    const summary = JSON.parse(r.stdout);
    expect(summary.done).toBe(false);
  });

  it("passing tests: the report and what depends on it are SKIPPED (two levels), deploy and cleanup run; the order is done", async () => {
    const ctx = setup();
    await importPlan(ctx, pipeline(ctx, "exit 0"));
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O", "--wait"]);
    expect(r.code).toBe(0);
    const s = await statusMap(ctx);
    expect(s).toMatchObject({
      TESTS: { status: "DONE" },
      REPORT: { status: "SKIPPED" },
      REPORT2: { status: "SKIPPED" },
      DEPLOY: { status: "DONE" },
      CLEANUP: { status: "DONE" },
    });
    expect(s.REPORT!.error).toContain("TESTS ended DONE");
    expect(s.REPORT2!.error).toContain("REPORT ended SKIPPED");
    const w = await readJson(ctx, ["wait", "p", "O"]);
    expect(w).toMatchObject({ done: true, counts: expect.objectContaining({ DONE: 3, SKIPPED: 2 }) });
    // The supervisor saw the skips it wrote itself: the order finished (not "idle" with tasks it took for open).
    const db = await store(ctx.db);
    const ends = db.conn.prepare("SELECT kind FROM events WHERE order_id = 'O' AND kind IN ('order_finished', 'order_idle')").pluck().all();
    db.close();
    expect(ends).toEqual(["order_finished"]);
    // A task whose condition is already unmeetable at import is SKIPPED at once.
    await aipm(ctx, ["task", "add", "p", "O", "LATE", "--command", "true", "--deps", "TESTS:failure"]);
    expect((await statusMap(ctx)).LATE).toMatchObject({ status: "SKIPPED" });
  });

  it("retry after a skip: a cancelled dependency skips its on-failure task; retrying it judges that task again", async () => {
    const ctx = setup();
    const flag = join(ctx.dir, "fail-now");
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "A", command: ["sh", "-c", `test ! -f ${flag}`], max_attempts: 1 },
            { id: "ONFAIL", command: ["true"], deps: [{ task: "A", on: "failure" }] },
            { id: "AFTER", command: ["true"], deps: ["ONFAIL"] },
          ],
        },
      ],
    });
    expect((await aipm(ctx, ["kill", "A"])).code).toBe(0);
    expect(await statusMap(ctx)).toMatchObject({ A: { status: "CANCELLED" }, ONFAIL: { status: "SKIPPED" }, AFTER: { status: "SKIPPED" } });
    writeFileSync(flag, "");
    expect((await aipm(ctx, ["retry", "A"])).code).toBe(0);
    await waitFor(async () => (await statusMap(ctx)).AFTER!.status === "DONE", { timeoutMs: 20_000 });
    expect(await statusMap(ctx)).toMatchObject({ A: { status: "FAILED" }, ONFAIL: { status: "DONE" }, AFTER: { status: "DONE" } });
  });

  it("bad conditions are import errors with their place; nothing is written", async () => {
    const ctx = setup();
    const bad = {
      project: "p",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "A", command: ["true"] },
            { id: "B", command: ["true"], deps: [{ task: "A", on: "sometimes" }] },
            { id: "D", command: ["true"], deps: [{ on: "always" }] },
          ],
        },
      ],
    };
    writeFileSync(join(ctx.dir, "bad.json"), JSON.stringify(bad));
    const r = await aipm(ctx, ["import", join(ctx.dir, "bad.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('orders[0].tasks[1].deps[0].on: unknown condition "sometimes" (expected success, failure or always)');
    expect(r.stderr).toContain("orders[0].tasks[2].deps[0]: expected {task: ID, on: success | failure | always}");
    // A condition on a task that does not exist is checked against the project, like any dependency.
    writeFileSync(join(ctx.dir, "bad2.json"), JSON.stringify({ project: "p", orders: [{ id: "O", tasks: [{ id: "C", command: ["true"], deps: [{ task: "NOPE", on: "failure" }] }] }] }));
    const r2 = await aipm(ctx, ["import", join(ctx.dir, "bad2.json")]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("orders[0].tasks[0].deps[0]: unknown task NOPE");
    expect((await aipm(ctx, ["status", "p"])).code).toBe(2);
  });
});

describe("aipm explain", () => {
  it("follows the chain: a dependency waiting on a lock held by a running task; capacity, pause and backoff", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "HOLDER", command: ["sleep", "30"], target_files: ["src/api/x.ts"], priority: "P0" },
            { id: "T4", command: ["true"], target_files: ["src/api/**"] },
            { id: "T9", command: ["true"], deps: ["T4"] },
            { id: "OTHER", command: ["sleep", "30"], priority: "P1" },
            { id: "WAITS", command: ["true"], priority: "P3" },
          ],
        },
      ],
    });
    await aipm(ctx, ["parallel-launch", "p", "O", "--max-workers", "2"]);
    const e = await readJson(ctx, ["explain", "T9"]);
    expect(e).toMatchObject({ task: "T9", status: "QUEUED", reason: { reason: "dependency", waiting_for: ["T4"] } });
    expect(e.because[0]).toMatchObject({ task: "T4", reason: { reason: "file_conflict", held_by: "HOLDER" } });
    expect(e.because[0].because[0]).toMatchObject({ task: "HOLDER", status: "IN_PROGRESS" });
    expect(e.because[0].because[0].summary).toMatch(/attempt 1 of 3, running for \d+s, pid \d+/);
    const text = (await aipm(ctx, ["explain", "T9"])).stdout;
    expect(text.split("\n")[0]).toBe("T9 QUEUED: waiting for T4");
    expect(text).toContain("  T4 QUEUED: src/api/x.ts is held by HOLDER");
    expect((await readJson(ctx, ["explain", "WAITS"])).summary).toMatch(/^no free worker slot: 2 running \(HOLDER, OTHER\)/);
    await aipm(ctx, ["pause", "p", "O"]);
    expect((await readJson(ctx, ["explain", "WAITS"])).summary).toBe("order O is paused (aipm resume p O)");
    expect((await aipm(ctx, ["explain", "NOPE"])).code).toBe(2);
    await aipm(ctx, ["kill", "HOLDER"]);
    await aipm(ctx, ["kill", "OTHER"]);
  });
});

describe("status says why a QUEUED task waits", () => {
  it("waiting: the skip reason as in parallel-launch --json, null when it would launch now", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }, { id: "B", command: ["true"], deps: ["A"] }] }],
    });
    const s = await readJson(ctx, ["status", "p"]);
    const byId = Object.fromEntries(s.tasks.map((t: any) => [t.task, t.waiting]));
    expect(byId).toEqual({ A: null, B: { task: "B", reason: "dependency", waiting_for: ["A"] } });
    await aipm(ctx, ["pause", "p", "O"]);
    expect((await aipm(ctx, ["status", "p"])).stdout).toMatch(/A\s+P2\s+QUEUED.*\(order is paused\)/);
  });
});
