/**
 * The terminal view (issue 14, item 8): `aipm status` at a glance within a
 * fixed number of lines, `--all` complete, `--json` complete, colour only on
 * a terminal (NO_COLOR, FORCE_COLOR), `--watch`, progress labels and the
 * last output line, the order's duration in `wait`, an example in every
 * command's `--help`. Real CLI processes (dist/), real SQLite files.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN } from "./helpers.js";
import { aipm, importPlan, readJson, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { renderStatusShort } from "../src/cli/render/status-short.js";
import { makeStyle, stripAnsi } from "../src/cli/render/style.js";
import { attemptText } from "../src/report/attempt-text.js";
import type { StatusReport } from "../src/report/status.js";
import { LAUNCH_DEFAULTS } from "../src/config/launch-options.js";

const ESC = "\u001b";
const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

/** A project of 1,000 tasks: 6 that run a while and print progress, one that fails, 992 waiting on them, one in another order. */
function bigPlan() {
  const tasks: unknown[] = [{ id: "BAD", command: ["sh", "-c", "echo broken; exit 3"], max_attempts: 1 }];
  for (let i = 0; i < 6; i++) {
    tasks.push({ id: `R${i}`, command: ["sh", "-c", "echo working on img_0003.png; echo AIPM_PROGRESS 3/10 img_0003.png; sleep 60"] });
  }
  for (let i = 0; i < 992; i++) tasks.push({ id: `T${i}`, command: ["true"], deps: [i < 10 ? "BAD" : `R${i % 6}`] });
  return { project: "big", root: "./ws", orders: [{ id: "O1", tasks }, { id: "O2", tasks: [{ id: "Z1", command: ["true"] }] }] };
}

async function bigProject(): Promise<Ctx> {
  const ctx = setup();
  await importPlan(ctx, bigPlan());
  expect((await aipm(ctx, ["parallel-launch", "big", "O1", "--max-workers", "4"])).code).toBe(0);
  // Four running with their progress, BAD failed.
  await waitFor(
    async () => {
      const s = await readJson(ctx, ["status", "big"]);
      return s.counts.IN_PROGRESS === 4 && s.counts.FAILED === 1 && s.workers.every((w: { progress: unknown }) => w.progress !== null);
    },
    { what: "4 running with progress, 1 failed" },
  );
  return ctx;
}

describe("aipm status, short by default", () => {
  it("a 1,000-task project fits in 40 lines: counts that add up, running workers with progress and last output, what failed, what waits and why; --all lists every task; --json is complete", async () => {
    const ctx = await bigProject();
    const r = await aipm(ctx, ["status", "big"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(r.stdout).not.toContain(ESC);
    // Counts that add up: 995 + 4 + 1 = 1,000.
    expect(lines[0]).toBe("big: QUEUED 995 (10 blocked), IN_PROGRESS 4, FAILED 1");
    expect(r.stdout).toMatch(/^big\/O1 {2}QUEUED 994 \(10 blocked\), IN_PROGRESS 4, FAILED 1$/m);
    expect(r.stdout).toMatch(/^ {2}running 4$/m);
    // A worker: task, attempt, elapsed, progress with its label, the last line it printed (not the AIPM_PROGRESS line).
    expect(r.stdout).toMatch(/^ {4}R0\s+attempt 1 of 3 {2}running \d+s {2}3\/10 img_0003\.png {2}working on img_0003\.png$/m);
    expect(r.stdout).not.toMatch(/AIPM_PROGRESS/);
    expect(r.stdout).toMatch(/^ {2}needs attention 1$/m);
    expect(r.stdout).toMatch(/^ {4}BAD\s+FAILED at \d{4}-\d\d-\d\dT[\d:.]+Z after attempt 1 of 1: exit code 3$/m);
    // What waits and why, counted by reason, blocked first; the rest is said to be there.
    expect(r.stdout).toMatch(/^ {2}waiting 994: 10 blocked, 2 capacity, 982 dependency \(\+\d+ more: aipm status --all\)$/m);
    expect(r.stdout).toMatch(/^ {4}T0\s+P2 {2}BLOCKED \(by BAD\)$/m);
    expect(r.stdout).toMatch(/^big\/O2 {2}QUEUED 1$/m);

    const all = await aipm(ctx, ["status", "big", "--all"]);
    expect(all.code).toBe(0);
    for (const id of ["BAD", "R5", "T0", "T500", "T991", "Z1"]) expect(all.stdout).toMatch(new RegExp(`^ {2}${id}\\s+P2`, "m"));
    expect(all.stdout.split("\n").length).toBeGreaterThan(1000);
    expect(all.stdout).toContain("running workers:");

    const json = await readJson(ctx, ["status", "big"]);
    expect(json.tasks).toHaveLength(1000);
    const r0 = json.tasks.find((t: { task: string }) => t.task === "R0");
    expect(r0.progress).toEqual({ done: 3, total: 10, label: "img_0003.png" });
    expect(json.workers.find((w: { task: string }) => w.task === "R0").last_output).toBe("working on img_0003.png");
    expect(json.tasks.find((t: { task: string }) => t.task === "T0").waiting).toMatchObject({ reason: "blocked", failed_dependency: "BAD" });
  }, 60_000);

  it("colour: none when piped or with NO_COLOR; FORCE_COLOR and a terminal colour it", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "BAD", command: ["false"], max_attempts: 1 }, { id: "X", deps: ["BAD"], command: ["true"] }] }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);

    const piped = await aipm(ctx, ["status", "p"]);
    expect(piped.stdout).toContain("FAILED");
    expect(piped.stdout).not.toContain(ESC);
    expect((await aipm(ctx, ["status", "p", "--all"])).stdout).not.toContain(ESC);
    const forced = await aipm(ctx, ["status", "p"], { env: { FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain(`${ESC}[31mFAILED${ESC}[0m`);
    expect((await aipm(ctx, ["status", "p"], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).stdout).not.toContain(ESC);
    // --json is never coloured.
    expect((await aipm(ctx, ["--json", "status", "p"], { env: { FORCE_COLOR: "1" } })).stdout).not.toContain(ESC);

    if (HAS_SCRIPT) {
      const tty = (env: Record<string, string>) =>
        spawnSync("script", ["-qec", `${process.execPath} ${BIN} --db ${ctx.db} status p`, "/dev/null"], { env: { ...ctx.env, ...env }, encoding: "utf8" });
      const onTerminal = tty({});
      expect(onTerminal.stdout).toContain(`${ESC}[31mFAILED${ESC}[0m`);
      // Relative times on a terminal.
      expect(onTerminal.stdout).toMatch(/FAILED\S* (just now|\d+s ago) after attempt 1 of 1/);
      expect(tty({ NO_COLOR: "1" }).stdout).not.toContain(`${ESC}[`);
    }
  }, 60_000);

  it("--watch redraws in place on a terminal and restores it on Ctrl-C; without a terminal it is refused (exit 2)", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "A", command: ["true"] }] }] });
    const piped = await aipm(ctx, ["status", "--watch"]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^aipm: status --watch needs a terminal/);
    expect(piped.stdout).toBe("");
    expect((await aipm(ctx, ["status", "--watch", "--interval", "0"])).code).toBe(2);
    if (!HAS_SCRIPT) return;
    const cmd = `stty rows 12 cols 70; timeout --preserve-status -s INT 2 ${process.execPath} ${BIN} --db ${ctx.db} status p --watch --interval 0.3; echo "rc=$?"`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: ctx.env, encoding: "utf8" });
    const out = r.stdout;
    expect(out.startsWith(`${ESC}[?1049h`) || out.includes(`${ESC}[?1049h`)).toBe(true);
    // Several frames, each from the top-left corner.
    expect(out.split(`${ESC}[H`).length).toBeGreaterThan(3);
    expect(stripAnsi(out)).toContain("p/O1  QUEUED 1");
    // The terminal comes back (cursor shown, normal screen) and Ctrl-C is a clean exit.
    expect(out).toContain(`${ESC}[?25h${ESC}[?1049l`);
    expect(out).toMatch(/rc=0/);
  }, 30_000);

  it("the short view never passes its line budget, however many orders and tasks", () => {
    const tasks = [];
    const orders = [];
    for (let o = 0; o < 30; o++) {
      orders.push({ project: "p", order: `O${o}`, paused: o % 7 === 0, tasks: 40, cost_usd: null, num_turns: null });
      for (let i = 0; i < 40; i++) {
        const status = i < 3 ? "IN_PROGRESS" : i < 5 ? "FAILED" : i < 20 ? "DONE" : "QUEUED";
        tasks.push({
          task: `O${o}T${i}`, project: "p", order: `O${o}`, title: "", status, blocked: false, failed_dependency: null, priority: "P2",
          attempt: 1, max_attempts: 3, spent_attempts: 1, pid: null, started_at: null, finished_at: null, exit_code: null, error: "boom",
          failure_kind: null, progress: null, target_files: [], deps: [], cost_usd: null, num_turns: null, out_of_scope: [],
          resumed_attempts: [], permission_denials: 0, retry_at: null, ...(status === "QUEUED" ? { waiting: { task: `O${o}T${i}`, reason: "capacity" } } : {}),
        });
      }
    }
    const report = { project: "p", order: null, counts: { QUEUED: 600, IN_PROGRESS: 90, FAILED: 60, DONE: 450, BLOCKED: 0 }, tasks, orders, workers: [], locks: [], holds: [] } as unknown as StatusReport;
    const style = makeStyle({ color: false, relative: false, now: 0 });
    for (const maxLines of [10, 24, 40, 80]) {
      const out = renderStatusShort(report, { style, maxLines }).trimEnd().split("\n");
      expect(out.length).toBeLessThanOrEqual(maxLines);
      expect(out.join("\n")).toMatch(/aipm status --all/);
    }
  });

  it("attempts read true when free retries did not count", () => {
    expect(attemptText({ attempt: 2, max_attempts: 3, spent_attempts: 2 })).toBe("attempt 2 of 3");
    expect(attemptText({ attempt: 4, max_attempts: 2, spent_attempts: 2 })).toBe("attempt 4 (2 of 2 counted)");
  });
});

describe("wait, enqueue, --help", () => {
  it("wait reports the order's duration (first start to last end), not the wait's own time", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "S", command: ["sleep", "1.5"] }] }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
    await waitFor(async () => (await readJson(ctx, ["status", "p"])).counts.DONE === 1, { what: "S done" });
    const text = await aipm(ctx, ["wait", "p", "O1"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^p\/O1: done in [12]s — DONE 1/);
    const json = JSON.parse((await aipm(ctx, ["--json", "wait", "p", "O1"])).stdout);
    expect(json.order_elapsed_s).toBeGreaterThanOrEqual(1.4);
    expect(json.elapsed_s).toBeLessThan(json.order_elapsed_s);
  }, 30_000);

  it("enqueue's help states the queue's own worker default", async () => {
    const ctx = setup();
    const r = await aipm(ctx, ["enqueue", "--help"], { noDb: true });
    expect(r.stdout).toMatch(/--max-workers\s+most queued commands running at once \(default 1, env\s+AIPM_QUEUE_WORKERS\)/);
  });

  it("every command's --help has an Examples section", async () => {
    const ctx = setup();
    const top = await aipm(ctx, ["--help"], { noDb: true });
    const section = top.stdout.split("Commands:")[1]!.split(/\n\s*\n/)[0]!;
    const names = [...section.matchAll(/^\s+aipm ([a-z-]+)/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["import", "status", "wait", "enqueue", "logs", "scale", "explain", "dashboard"]));
    const missing: string[] = [];
    for (const cmd of [...names.map((n) => [n]), ["task", "add"]]) {
      const r = await aipm(ctx, [...cmd, "--help"], { noDb: true });
      if (r.code !== 0 || !/^Examples:\n +.*\baipm\b/m.test(r.stdout)) missing.push(cmd.join(" "));
    }
    expect(missing).toEqual([]);
  }, 60_000);
});

describe("status: resources from the machine's history while a supervisor records it", () => {
  it("uses a point recorded within the interval instead of measuring; an old point is not used", async () => {
    const { store } = await import("./helpers.js");
    const { MachineRecorder } = await import("../src/resources/machine-point.js");
    const ctx = setup({ AIPM_ENABLE_MONITORING: "true" });
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }] }] });
    const s = await store(ctx.db);
    const recorder = new MachineRecorder(s);
    const limits = { ...LAUNCH_DEFAULTS, maxCpu: 80, maxMemory: 80, maxWorkers: 4 };
    const point = { cpu: 42.25, mem: 33.5, workers: 4, running: 0, gpu: null, gpu_mem: null, disk_db: 50, disk_root: 50 };
    // An old point (a minute ago): measured instead.
    expect(recorder.record({ ...point, t: Date.now() - 60_000 }, limits)).toBe(true);
    const old = await readJson(ctx, ["status", "p"]);
    expect(old.resources.monitoring).toBe(true);
    expect(old.resources.cpu_percent).not.toBe(42.25);
    // A point just recorded (as a leading supervisor does every 5 s): the report carries it.
    expect(recorder.record({ ...point, t: Date.now() }, limits)).toBe(true);
    const fresh = await readJson(ctx, ["status", "p"]);
    expect(fresh.resources).toMatchObject({ monitoring: true, cpu_percent: 42.25, memory_percent: 33.5 });
    recorder.close();
    s.close();
  });
});
