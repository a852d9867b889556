/** `aipm wait --all [PROJECT]` and `--events`: the built binary, real workers. */
import { describe, expect, it } from "vitest";
import { aipm, importPlan, setup } from "./runtime-helpers.js";

const order = (id: string, tasks: Array<Record<string, unknown>>) => ({ id, title: id, tasks });
const task = (id: string, command: string, extra: Record<string, unknown> = {}) => ({ id, title: id, command, target_files: [id], ...extra });

describe("aipm wait --all", () => {
  it("waits for every active order of every project; --events prints one line per finished task; one line of JSON, failures with a next step", { timeout: 60_000 }, async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [order("O1", [task("A", "sleep 0.3"), task("B", "exit 4", { max_attempts: 1 })]), order("O2", [task("C", "true")])] });
    await importPlan(ctx, { project: "q", root: "./wq", orders: [order("Q1", [task("D", "sleep 0.2")])] });
    for (const [p, o] of [["p", "O1"], ["p", "O2"], ["q", "Q1"]]) expect((await aipm(ctx, ["parallel-launch", p!, o!])).code).toBe(0);
    const r = await aipm(ctx, ["--json", "wait", "--all", "--events"]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ project: null, done: false, timed_out: false, counts: { DONE: 3, FAILED: 1 } });
    expect(s.orders.map((o: any) => `${o.project}/${o.order}:${o.done}`).sort()).toEqual(["p/O1:false", "p/O2:true", "q/Q1:true"]);
    expect(s.failed).toEqual([
      { project: "p", order: "O1", task: "B", error: "exit code 4", failure_kind: "exit_code", log: expect.stringMatching(/B\/1\.log$/), attempts: 1, host: expect.any(String), next: "aipm logs B --tail 20, then fix and aipm retry B" },
    ]);
    // Events: only tasks that finished while it waited, one line each, on stderr.
    for (const line of r.stderr.trim().split("\n").filter(Boolean)) expect(line).toMatch(/^(O1|O2|Q1)\/[ABCD] (DONE|FAILED exit_code) \(attempt 1\)$/);
  });

  it("PROJECT limits it to that project's orders; an order that ended before the wait is reported once; nothing left: done at once; under 1 KB when nothing failed", { timeout: 60_000 }, async () => {
    const ctx = setup();
    const many = Array.from({ length: 20 }, (_, i) => task(`T${i}`, "true"));
    await importPlan(ctx, { project: "p", root: "./ws", orders: [order("O1", many)] });
    await importPlan(ctx, { project: "q", root: "./wq", orders: [order("Q1", [task("S", "sleep 30")])] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
    expect((await aipm(ctx, ["parallel-launch", "q", "Q1"])).code).toBe(0);
    const r = await aipm(ctx, ["--json", "wait", "--all", "p"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.length).toBeLessThan(1024);
    expect(JSON.parse(r.stdout)).toMatchObject({ project: "p", done: true, orders: [{ project: "p", order: "O1", done: true, counts: { DONE: 20 } }], failed: [] });
    const single = await aipm(ctx, ["--json", "wait", "p", "O1"]);
    expect(single.stdout.length).toBeLessThan(1024);
    expect(JSON.parse(single.stdout)).toMatchObject({ project: "p", order: "O1", done: true, timed_out: false, failed: [] });
    expect(Object.keys(JSON.parse(single.stdout))).toEqual(expect.arrayContaining(["project", "order", "done", "timed_out", "counts", "failed", "elapsed_s"]));
    expect((await aipm(ctx, ["kill", "S"])).code).toBe(0);
    // An order that ended before the wait started is reported once, then no more.
    const ended = await aipm(ctx, ["--json", "wait", "--all", "q"]);
    expect(JSON.parse(ended.stdout)).toMatchObject({ project: "q", done: false, orders: [{ order: "Q1", done: false, counts: { CANCELLED: 1 } }] });
    const none = await aipm(ctx, ["--json", "wait", "--all"]);
    expect(JSON.parse(none.stdout)).toMatchObject({ project: null, orders: [], done: true });
  });

  it("bad input: one line, exit 2", async () => {
    const ctx = setup();
    for (const args of [["wait", "p"], ["wait", "--all", "p", "O1"], ["wait"], ["wait", "--all", "nope"]]) {
      const r = await aipm(ctx, args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    }
  });
});
