/**
 * The dashboard's "why" and its views over real HTTP: each QUEUED task's
 * waiting reason, a task's explain chain and run history, the graph and the
 * timeline of a 30-task order with conditions, machine samples kept across a
 * restart (in their own file: a sample never wakes a supervisor); `aipm scale` (CLI, library, dashboard control); `status` counts
 * that add up and paused orders said.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { store } from "./helpers.js";
import { aipm, importPlan, readJson, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { startDashboard, type Dashboard } from "../src/dashboard/server.js";
import type { Store } from "../src/store/open.js";
import { dataVersion } from "../src/store/data-version.js";

const open: Array<{ d: Dashboard; s: Store }> = [];
afterEach(async () => {
  for (const { d, s } of open.splice(0)) {
    await d.close();
    s.close();
  }
});

async function dashboard(ctx: Ctx, sampleMs = 500, port = 0): Promise<Dashboard> {
  const s = await store(ctx.db);
  const d = await startDashboard({ store: s, host: "127.0.0.1", port, env: ctx.env, sampleMs });
  open.push({ d, s });
  return d;
}

const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

/** 30 tasks: a fan-out of 10, a fan-in, a failing check with an `on: failure` branch and an `always` one. */
function plan30() {
  const tasks: any[] = [{ id: "ROOT", target_files: ["root.txt"], command: ["true"] }];
  for (let i = 1; i <= 24; i++) tasks.push({ id: `W${i}`, deps: [i <= 10 ? "ROOT" : `W${i - 10}`], command: ["true"] });
  tasks.push({ id: "JOIN", deps: ["W11", "W12"], command: ["true"] });
  tasks.push({ id: "CHECK", deps: ["JOIN"], command: ["false"], max_attempts: 1 });
  tasks.push({ id: "FIX", deps: [{ task: "CHECK", on: "failure" }], command: ["true"] });
  tasks.push({ id: "REPORT", deps: [{ task: "CHECK", on: "always" }], command: ["true"] });
  tasks.push({ id: "SHIP", deps: ["CHECK"], command: ["true"] });
  return { project: "p", root: "./ws", orders: [{ id: "BIG", title: "Thirty", tasks }] };
}

describe("dashboard: why, graph, timeline", () => {
  it("says why each QUEUED task waits: a file held by whom, a dependency, a paused order", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "HOLD", target_files: ["same.txt"], command: ["sleep", "30"] },
            { id: "WANTS", target_files: ["same.txt"], command: ["true"] },
            { id: "AFTER", deps: ["HOLD"], command: ["true"] },
          ],
        },
      ],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
    const d = await dashboard(ctx);
    const o = await getJson(`${d.url}api/orders/p/O1`);
    const by = (id: string) => o.tasks.find((t: any) => t.task === id);
    expect(by("WANTS").waiting).toMatchObject({ reason: "file_conflict", file: "same.txt", held_by: "HOLD" });
    expect(by("AFTER").waiting).toMatchObject({ reason: "dependency", waiting_for: ["HOLD"] });
    const html = await (await fetch(`${d.url}orders/p/O1`)).text();
    expect(html).toContain("same.txt is held by HOLD");
    expect(html).toContain("waiting for HOLD");
    // The task panel: the explain chain down to the running holder, and the run history.
    const detail = await getJson(`${d.url}api/tasks/p/WANTS`);
    expect(detail.explain.summary).toBe("same.txt is held by HOLD");
    expect(detail.explain.because[0]).toMatchObject({ task: "HOLD", status: "IN_PROGRESS" });
    const panel = await (await fetch(`${d.url}orders/p/O1?fragment=task&task=WANTS`)).text();
    expect(panel).toContain("same.txt is held by HOLD");
    expect(panel).toContain("attempt 1 of 3");
    const hold = await getJson(`${d.url}api/tasks/p/HOLD`);
    expect(hold.attempts).toEqual([expect.objectContaining({ task: "HOLD", attempt: 1, finished_at: null, outcome: "running" })]);
    // Paused: said as the order's state and as each waiting task's reason.
    expect((await aipm(ctx, ["pause", "p", "O1"])).code).toBe(0);
    const paused = await (await fetch(`${d.url}orders/p/O1?fragment=order`)).text();
    expect(paused).toContain("PAUSED");
    expect(paused).toContain("order is paused");
    expect((await aipm(ctx, ["kill", "HOLD"])).code).toBe(0);
    expect((await fetch(`${d.url}orders/p/O1?view=nope`)).status).toBe(400);
    expect((await fetch(`${d.url}api/tasks/p/NOPE`)).status).toBe(404);
  });

  it("draws the graph (levels, conditions on edges) and the timeline of a 30-task order", async () => {
    const ctx = setup();
    await importPlan(ctx, plan30());
    expect((await aipm(ctx, ["parallel-launch", "p", "BIG", "--wait", "--max-workers", "6"])).code).toBe(1);
    const d = await dashboard(ctx);
    const graph = await (await fetch(`${d.url}orders/p/BIG?view=graph`)).text();
    const nodes = graph.match(/<g class="node [^"]*" data-action="task"/g) ?? [];
    expect(nodes).toHaveLength(30);
    expect(graph).toContain('class="node n-FAILED" data-action="task" data-project="p" data-task="CHECK"');
    expect(graph).toContain('class="node n-BLOCKED" data-action="task" data-project="p" data-task="SHIP"');
    expect(graph.match(/class="edge c-failure"/g)).toHaveLength(1);
    expect(graph.match(/class="edge c-always"/g)).toHaveLength(1);
    expect(graph).toContain(">on failure</text>");
    expect(graph.match(/<path class="edge/g)!.length).toBe(24 + 2 + 1 + 1 + 1 + 1); // every dependency an edge
    const attempts = (await getJson(`${d.url}api/orders/p/BIG/attempts`)).attempts;
    expect(attempts.length).toBe(29); // every task but SHIP (blocked by CHECK) ran once
    for (const a of attempts) expect(a.started_at).toBeGreaterThanOrEqual(a.ready_at);
    const w11 = attempts.find((a: any) => a.task === "W11");
    const w1 = attempts.find((a: any) => a.task === "W1");
    expect(w11.ready_at).toBe(w1.finished_at); // ready when its dependency ended
    const timeline = await (await fetch(`${d.url}orders/p/BIG?view=timeline`)).text();
    expect(timeline.match(/data-attempt="/g)).toHaveLength(29);
    expect(timeline).toContain('data-attempt="CHECK/1"');
  });

  it("a supervisor records the machine while it runs an order, with no dashboard open; the dashboard shows those points", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "LONG", tasks: [{ id: "S", command: ["sleep", "3"] }] }] });
    const t0 = Date.now();
    const r = await aipm(ctx, ["parallel-launch", "p", "LONG", "--wait", "--no-auto-scaling"], { env: { AIPM_ENABLE_MONITORING: "true" } });
    expect(r.code).toBe(0);
    const t1 = Date.now();
    expect(existsSync(join(dirname(ctx.db), "machine-samples.db"))).toBe(true);
    // A dashboard opened afterwards, sampling rarely: what it shows at once is what the supervisor kept.
    const d = await dashboard(ctx, 60_000);
    const m = await getJson(`${d.url}api/machine`);
    const during = m.points.filter((p: any) => p.t >= t0 && p.t <= t1);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during[0].disk_db).toBeGreaterThan(0);
    // One history at its interval, whoever recorded it: never two points closer than 0.9 of it.
    for (let i = 1; i < m.points.length; i++) expect(m.points[i].t - m.points[i - 1].t).toBeGreaterThanOrEqual(4500);
  });

  it("two recorders of one machine make one history: a point within the interval of another is not added", async () => {
    const { MachineRecorder } = await import("../src/resources/machine-point.js");
    const { LAUNCH_DEFAULTS } = await import("../src/config/launch-options.js");
    const ctx = setup();
    await importPlan(ctx, plan30());
    const [s1, s2] = [await store(ctx.db), await store(ctx.db)];
    const [a, b] = [new MachineRecorder(s1), new MachineRecorder(s2)];
    const p = { cpu: 10, mem: 20, workers: 4, running: 0, gpu: null, gpu_mem: null, disk_db: 1, disk_root: 1 };
    const t = Date.now();
    expect(a.record({ ...p, t }, LAUNCH_DEFAULTS)).toBe(true);
    expect(b.record({ ...p, t: t + 1000 }, LAUNCH_DEFAULTS)).toBe(false);
    expect(b.record({ ...p, t: t + 5000 }, LAUNCH_DEFAULTS)).toBe(true);
    expect(a.samples()!.since(t).map((r) => r.t)).toEqual([t, t + 5000]);
    a.close();
    b.close();
    s1.close();
    s2.close();
  });

  it("keeps machine samples across a restart of the dashboard, with disk", async () => {
    const ctx = setup();
    await importPlan(ctx, plan30());
    // A supervisor's connection: it reloads its view when the database's data_version moves.
    const watcher = await store(ctx.db);
    const version0 = dataVersion(watcher);
    const d = await dashboard(ctx, 100);
    const first = await waitFor(async () => {
      const m = await getJson(`${d.url}api/machine`);
      return m.points.length >= 3 ? m : null;
    }, { what: "three machine samples" });
    expect(first.points[0].disk_db).toBeGreaterThan(0);
    // The samples are kept in their own file: writing them never woke a supervisor.
    expect(existsSync(join(dirname(ctx.db), "machine-samples.db"))).toBe(true);
    expect(dataVersion(watcher)).toBe(version0);
    watcher.close();
    const { d: d1, s } = open.pop()!;
    await d1.close();
    s.close();
    const again = await dashboard(ctx, 60_000);
    const m = await getJson(`${again.url}api/machine`);
    expect(m.points.length).toBeGreaterThanOrEqual(3);
    expect(m.points[0].t).toBe(first.points[0].t);
  });
});

describe("aipm scale", () => {
  it("changes an order's worker limit at once; a launch without --max-workers keeps it; bad input is one line, exit 2", async () => {
    const ctx = setup();
    await importPlan(ctx, plan30());
    const r = await readJson(ctx, ["--json", "scale", "p", "BIG", "3"]);
    expect(r).toMatchObject({ project: "p", order: "BIG", max_workers: 3, was: 5 });
    expect((await readJson(ctx, ["--json", "parallel-launch", "p", "BIG", "--dry-run"])).max_workers).toBe(3);
    expect((await readJson(ctx, ["--json", "parallel-launch", "p", "BIG", "--dry-run", "--max-workers", "7"])).max_workers).toBe(7);
    for (const bad of ["0", "two", "1.5"]) {
      const res = await aipm(ctx, ["scale", "p", "BIG", bad]);
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toMatch(/scale: expected a whole number of workers from 1 up/);
    }
    const unknown = await aipm(ctx, ["scale", "p", "NOPE", "2"]);
    expect(unknown.code).toBe(2);
    // The dashboard's − / + controls.
    const d = await dashboard(ctx);
    const post = (workers: unknown) =>
      fetch(`${d.url}api/orders/p/BIG/scale`, { method: "POST", headers: { "x-csrf-token": d.csrf }, body: JSON.stringify({ workers }) });
    const up = await post(4);
    expect(await up.json()).toMatchObject({ max_workers: 4, was: 3 });
    expect((await post(0)).status).toBe(400);
    expect((await post("x")).status).toBe(400);
    const html = await (await fetch(`${d.url}orders/p/BIG`)).text();
    expect(html).toContain('data-max-workers="4"');
    expect((await readJson(ctx, ["--json", "parallel-launch", "p", "BIG", "--dry-run"])).max_workers).toBe(4);
  });
});

describe("status: counts that add up, paused said", () => {
  it("shows blocked tasks inside QUEUED and a paused order as PAUSED", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "BAD", command: ["false"], max_attempts: 1 }, { id: "X", deps: ["BAD"], command: ["true"] }, { id: "Y", deps: ["X"], command: ["true"] }] }],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);
    expect((await aipm(ctx, ["pause", "p", "O1"])).code).toBe(0);
    const out = (await aipm(ctx, ["status", "p", "--no-resource-monitoring"])).stdout;
    expect(out).toContain("p: QUEUED 2 (2 blocked), FAILED 1");
    expect(out).not.toMatch(/BLOCKED 2/);
    expect(out).toMatch(/p\/O1 {2}PAUSED/);
    const json = await readJson(ctx, ["--json", "status", "p", "--no-resource-monitoring"]);
    expect(json.counts).toMatchObject({ QUEUED: 2, BLOCKED: 2, FAILED: 1 });
    expect(json.orders[0].paused).toBe(true);
  });
});

describe("dashboard: a task's tries", () => {
  it("count the attempts against max_attempts, free retries said apart (never 4/2)", async () => {
    const { taskRow } = await import("../src/dashboard/render-page.js");
    const base = { project: "p", task: "t1", title: "", status: "QUEUED", blocked: false, priority: "P2", deps: [], dep_conditions: {}, target_files: [], progress: null, started_at: null, finished_at: null, elapsed_s: null, failure_kind: null, out_of_scope: [], cost_usd: null, waiting: null, max_attempts: 2 };
    const freeRetries = taskRow({ ...base, attempt: 4, spent_attempts: 2 } as unknown as Parameters<typeof taskRow>[0]);
    expect(freeRetries).toMatch(/<td class="tries" title="attempt 4 \(2 of 2 counted\)">2\/2 <span class="muted">\+2 free<\/span><\/td>/);
    const plain = taskRow({ ...base, attempt: 1, spent_attempts: 1 } as unknown as Parameters<typeof taskRow>[0]);
    expect(plain).toMatch(/<td class="tries" title="attempt 1 of 2">1\/2<\/td>/);
  });
});
