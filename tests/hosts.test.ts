/**
 * Issue 16, hosts on the SQLite path: every attempt records the host whose
 * aipm claimed it (`AIPM_HOST`, else the hostname), workers get `AIPM_HOST`,
 * and `status`, `wait`, `locks` and launch JSON rows carry `host`. Bad
 * `AIPM_HOST` / `AIPM_HOST_LABELS` are exit 2 with one line, nothing written.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { bin, tempDir } from "./helpers.js";
import { aipm, importPlan, readJson, setup, statusTasks, waitFor } from "./runtime-helpers.js";

/** Writes $AIPM_HOST into `file` (in the project root), then waits for `go` there. */
const hostThenWait = (file: string) => ["sh", "-c", `printf %s "$AIPM_HOST" > ${file}; while [ ! -e go ]; do sleep 0.05; done`];

describe("this host", () => {
  it("the worker gets AIPM_HOST; status, locks, launch and wait JSON carry the host of the attempt", async () => {
    const ctx = setup({ AIPM_HOST: "vm1" });
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "A", command: hostThenWait("a.host"), target_files: ["a.txt"] },
            { id: "F", command: ["sh", "-c", 'printf %s "$AIPM_HOST" > f.host; exit 3'], max_attempts: 1 },
            { id: "B", command: ["true"], deps: ["A"] },
          ],
        },
      ],
    });
    const ws = join(ctx.dir, "ws");
    const launch = await aipm(ctx, ["--json", "parallel-launch", "p", "O"]);
    expect(launch.code).toBe(0);
    const report = JSON.parse(launch.stdout);
    expect(report.launched.map((l: { task: string; host: string }) => [l.task, l.host]).sort()).toEqual([
      ["A", "vm1"],
      ["F", "vm1"],
    ]);
    await waitFor(() => existsSync(join(ws, "a.host")) && existsSync(join(ws, "f.host")));
    expect(readFileSync(join(ws, "a.host"), "utf8")).toBe("vm1");
    expect(readFileSync(join(ws, "f.host"), "utf8")).toBe("vm1");

    const locks = (await readJson(ctx, ["locks"])).locks;
    expect(locks).toEqual([expect.objectContaining({ file: "a.txt", task: "A", project: "p", host: "vm1" })]);
    const tasks = await statusTasks(ctx, "p", "O");
    const hostOf = (id: string) => (tasks.find((t) => t.task === id) as unknown as { host: string | null }).host;
    expect([hostOf("A"), hostOf("B")]).toEqual(["vm1", null]);

    writeFileSync(join(ws, "go"), "");
    const w = await aipm(ctx, ["--json", "wait", "p", "O", "--timeout", "30"]);
    expect(w.code).toBe(1);
    const summary = JSON.parse(w.stdout);
    expect(summary.failed).toEqual([expect.objectContaining({ task: "F", failure_kind: "exit_code", host: "vm1" })]);
    expect((await statusTasks(ctx, "p", "O")).map((t) => [t.task, t.status, (t as unknown as { host: string }).host])).toEqual([
      ["A", "DONE", "vm1"],
      ["F", "FAILED", "vm1"],
      ["B", "DONE", "vm1"],
    ]);
  });

  it("without AIPM_HOST the host is the hostname", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: ["sh", "-c", 'printf %s "$AIPM_HOST" > a.host'] }] }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O", "--wait", "--timeout", "30"])).code).toBe(0);
    expect(readFileSync(join(ctx.dir, "ws", "a.host"), "utf8")).toBe(hostname());
    expect((await statusTasks(ctx, "p", "O")).map((t) => (t as unknown as { host: string }).host)).toEqual([hostname()]);
  });

  it("a bad AIPM_HOST or AIPM_HOST_LABELS: exit 2, one line, nothing written (real processes)", () => {
    const dir = tempDir();
    const plan = join(tempDir(), "plan.json");
    writeFileSync(plan, JSON.stringify({ project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }] }] }));
    const envs: Array<Record<string, string>> = [{ AIPM_HOST: "a b" }, { AIPM_HOST: "x".repeat(65) }, { AIPM_HOST: "vm/1" }, { AIPM_HOST_LABELS: "gpu,big gpu" }, { AIPM_HOST_LABELS: "," }];
    for (const env of envs) {
      for (const args of [["import", plan], ["parallel-launch", "p", "O"], ["status"]]) {
        const r = bin(args, { cwd: dir, env });
        expect({ env, args, code: r.code }).toEqual({ env, args, code: 2 });
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(/^aipm: AIPM_HOST(_LABELS)?: expected/);
      }
    }
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe("runs_on: labels route a task", () => {
  const plan = {
    project: "p",
    root: "./ws",
    orders: [
      {
        id: "O",
        tasks: [
          { id: "G", command: ["sh", "-c", 'printf %s "$AIPM_HOST" > g.host'], runs_on: ["gpu"] },
          { id: "N", command: ["true"] },
        ],
      },
    ],
  };
  const hostSkip = { task: "G", reason: "host", runs_on: ["gpu"], host: "vm1", host_labels: [] as string[] };

  it("skipped with reason host where the label is missing (dry run, summary, status, explain, the claim); runs where AIPM_HOST_LABELS has it", async () => {
    const ctx = setup({ AIPM_HOST: "vm1" });
    await importPlan(ctx, plan);
    const dry = await readJson(ctx, ["parallel-launch", "p", "O", "--dry-run"]);
    expect(dry.launchable.map((t: { task: string }) => t.task)).toEqual(["N"]);
    expect(dry.skipped).toEqual([hostSkip]);
    expect((await readJson(ctx, ["parallel-launch", "p", "O", "--dry-run", "--summary"])).summary.skipped).toEqual({ host: 1 });
    const text = await aipm(ctx, ["parallel-launch", "p", "O", "--dry-run"]);
    expect(text.stdout).toMatch(/G +host +needs a host with label gpu \(this host vm1: none\)/);
    const g = (await statusTasks(ctx, "p", "O")).find((t) => t.task === "G") as unknown as { waiting: unknown };
    expect(g.waiting).toEqual(hostSkip);
    const explain = await aipm(ctx, ["explain", "G"]);
    expect(explain.stdout).toContain("needs a host with label gpu (this host vm1: none)");
    expect(await readJson(ctx, ["explain", "G"])).toMatchObject({ task: "G", status: "QUEUED", reason: hostSkip, runs_on: ["gpu"] });

    // The claim agrees with the detector: asked to run it here, aipm refuses and writes nothing.
    const refused = await aipm(ctx, ["execute-task", "p", "G"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe("aipm: G cannot run on this host: it needs the label gpu (runs_on) and AIPM_HOST_LABELS does not have them all");
    expect((await statusTasks(ctx, "p", "O")).find((t) => t.task === "G")).toMatchObject({ status: "QUEUED", attempt: 0 });

    // Launched here, only N runs; G stays QUEUED.
    const launch = await aipm(ctx, ["--json", "parallel-launch", "p", "O"]);
    expect(JSON.parse(launch.stdout).launched.map((l: { task: string }) => l.task)).toEqual(["N"]);
    await waitFor(async () => (await statusTasks(ctx, "p", "O")).find((t) => t.task === "N")?.status === "DONE");
    expect((await statusTasks(ctx, "p", "O")).find((t) => t.task === "G")).toMatchObject({ status: "QUEUED", attempt: 0 });
    expect(existsSync(join(ctx.dir, "ws", "g.host"))).toBe(false);

    // On a host with the labels (and more), it runs.
    const gpu = { AIPM_HOST: "vm1", AIPM_HOST_LABELS: "big, gpu" };
    const withLabel = await aipm(ctx, ["--json", "parallel-launch", "p", "O", "--dry-run"], { env: { ...ctx.env, ...gpu } });
    expect(JSON.parse(withLabel.stdout).launchable.map((t: { task: string }) => t.task)).toEqual(["G"]);
    const ran = await aipm(ctx, ["parallel-launch", "p", "O", "--wait", "--timeout", "30"], { env: { ...ctx.env, ...gpu } });
    expect(ran.code).toBe(0);
    expect(readFileSync(join(ctx.dir, "ws", "g.host"), "utf8")).toBe("vm1");
    expect((await aipm(ctx, ["explain", "G"])).stdout).toMatch(/^G DONE: done after 1 attempt \(runs_on: gpu\)$/m);
    expect((await statusTasks(ctx, "p", "O")).map((t) => [t.task, t.status])).toEqual([
      ["G", "DONE"],
      ["N", "DONE"],
    ]);
  });

  it("a bad runs_on: exit 2, one line for the problem, nothing written", () => {
    const dir = tempDir();
    const cases: Array<[unknown, RegExp]> = [
      ["gpu", /orders\[0\]\.tasks\[0\]\.runs_on: expected a list, got "gpu"/],
      [["g pu"], /runs_on\[0\]: bad host label "g pu" \(expected 1-64 of A-Z a-z 0-9 _ \. -\)/],
      [[3], /runs_on\[0\]: expected a string, got 3/],
      [["x".repeat(65)], /runs_on\[0\]: bad host label/],
    ];
    for (const [runsOn, message] of cases) {
      const file = join(dir, "plan.json");
      writeFileSync(file, JSON.stringify({ project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "G", command: ["true"], runs_on: runsOn }] }] }));
      const r = bin(["import", file], { cwd: dir });
      expect({ runsOn, code: r.code }).toEqual({ runsOn, code: 2 });
      const lines = r.stderr.trim().split("\n");
      expect(lines).toEqual(["aipm: invalid plan (1 problem), nothing was imported:", expect.stringMatching(message)]);
    }
    expect(readdirSync(dir)).toEqual(["plan.json"]);
  });
});
