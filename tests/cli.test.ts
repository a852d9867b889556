import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { bin, cli, tempDir, writePlan, store, snapshot } from "./helpers.js";

function plan() {
  return {
    project: "demo",
    orders: [
      {
        id: "O1",
        tasks: [
          { id: "A", priority: "P1", target_files: ["src/a.ts"], command: ["true"] },
          { id: "B", deps: ["A"], target_files: ["src/b.ts"], command: ["true"] },
          { id: "C", target_files: ["src/a.ts"], command: ["true"] },
          { id: "D", priority: "P0", target_files: ["src/"], command: ["true"] },
          { id: "E", target_files: ["docs/e.md"], command: ["true"] },
        ],
      },
    ],
  };
}

async function imported() {
  const dir = tempDir();
  const db = join(dir, "aipm.db");
  const r = await cli(["--db", db, "import", writePlan(dir, "plan.json", plan())], { cwd: dir });
  expect(r.code).toBe(0);
  return { dir, db };
}

describe("parallel-launch --dry-run", () => {
  it("prints the contract's JSON: launchable in launch order, skipped with reasons, nothing launched or written", async () => {
    const { dir, db } = await imported();
    const s = await store(db);
    const before = snapshot(s);
    const r = await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-workers", "3"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      project: "demo",
      order: "O1",
      dry_run: true,
      max_workers: 3,
      effective_workers: 3,
      running: 0,
      resources: { monitoring: false, cpu_percent: null, memory_percent: null, healthy: true },
      launchable: [
        { task: "D", priority: "P0", target_files: ["src"] },
        { task: "E", priority: "P2", target_files: ["docs/e.md"] },
      ],
      launched: [],
      skipped: [
        { task: "A", reason: "file_conflict", file: "src", held_by: "D" },
        { task: "B", reason: "dependency", waiting_for: ["A"] },
        { task: "C", reason: "file_conflict", file: "src", held_by: "D" },
      ],
      failed: [],
    });
    expect(snapshot(s)).toBe(before);
  });

  it("counts running tasks against the slots and reports held locks as conflicts", async () => {
    const { dir, db } = await imported();
    const s = await store(db);
    s.conn.prepare("UPDATE tasks SET status = 'IN_PROGRESS', pid = 999999 WHERE id = 'D'").run();
    s.conn.prepare("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES ('demo', 'D', 'src', 0)").run();
    const r = await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-workers", "2"], { cwd: dir });
    const out = JSON.parse(r.stdout);
    expect(out.running).toBe(1);
    expect(out.launchable.map((t: { task: string }) => t.task)).toEqual(["E"]);
    expect(out.skipped).toContainEqual({ task: "A", reason: "file_conflict", file: "src", held_by: "D" });
  });

  it("--summary gives counts per status and per skip reason", async () => {
    const { dir, db } = await imported();
    const r = await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--summary", "--max-workers", "1"], { cwd: dir });
    expect(r.code).toBe(0);
    const { summary } = JSON.parse(r.stdout);
    expect(summary.statuses.QUEUED).toBe(5);
    expect(summary.launchable).toBe(1);
    expect(summary.skipped).toEqual({ capacity: 1, file_conflict: 2, dependency: 1 });
  });

  it("takes limits from flags over environment over defaults", async () => {
    const { dir, db } = await imported();
    const env = { AIPM_MAX_WORKERS: "4" };
    const fromEnv = JSON.parse((await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run"], { cwd: dir, env })).stdout);
    expect(fromEnv.max_workers).toBe(4);
    const fromFlag = JSON.parse(
      (await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-workers", "2"], { cwd: dir, env })).stdout,
    );
    expect(fromFlag.max_workers).toBe(2);
    const dflt = JSON.parse((await cli(["--db", db, "--json", "parallel_launch", "demo", "O1", "--dry-run"], { cwd: dir })).stdout);
    expect(dflt.max_workers).toBe(5);
  });

  it("measures resources unless told not to, and scales by them", async () => {
    const { dir, db } = await imported();
    const on = JSON.parse(
      (await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-cpu", "100", "--max-memory", "100"], {
        cwd: dir,
        env: { AIPM_ENABLE_MONITORING: "true" },
      })).stdout,
    );
    expect(on.resources.monitoring).toBe(true);
    expect(on.resources.memory_percent).toBeGreaterThan(0);
    expect(on.resources.cpu_percent).toBeGreaterThanOrEqual(0);
    // Nothing is above 100 %; a CPU at exactly 100 % (a loaded machine) is `over = 0`: 75 % by the contract.
    expect(on.effective_workers).toBe(on.resources.cpu_percent >= 100 ? 3 : 5);
    // A threshold below the machine's use scales down.
    const low = JSON.parse(
      (await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-memory", "0.01", "--max-workers", "8"], {
        cwd: dir,
        env: { AIPM_ENABLE_MONITORING: "true" },
      })).stdout,
    );
    // The tier follows from the figures the launch reports (memory is far above 0.01 %).
    const over = Math.max(low.resources.cpu_percent - 85, low.resources.memory_percent - 0.01);
    const share = over < 5 ? 0.75 : over < 10 ? 0.5 : 0.25;
    expect(low.effective_workers).toBe(Math.max(1, Math.floor(8 * share)));
    expect(low.effective_workers).toBeLessThan(8);
    expect(low.resources.healthy).toBe(false);
    const off = JSON.parse(
      (await cli(["--db", db, "--json", "parallel-launch", "demo", "O1", "--dry-run", "--max-memory", "0.01", "--no-auto-scaling"], {
        cwd: dir,
        env: { AIPM_ENABLE_MONITORING: "true" },
      })).stdout,
    );
    expect(off.effective_workers).toBe(5);
  });

  it("rejects unknown projects and orders, bad limits and unknown flags with exit 2 and one line", async () => {
    const { dir, db } = await imported();
    const cases: Array<[string[], string | RegExp, Record<string, string>?]> = [
      [["parallel-launch", "nope", "O1", "--dry-run"], "unknown project nope"],
      [["parallel-launch", "demo", "O9", "--dry-run"], "unknown order O9"],
      [["parallel-launch", "demo", "O1", "--dry-run", "--max-workers", "0"], "--max-workers"],
      [["parallel-launch", "demo", "O1", "--dry-run", "--bogus"], /Unknown argument/i],
      [["parallel-launch", "demo", "O1", "--dry-run"], "AIPM_MAX_WORKERS", { AIPM_MAX_WORKERS: "many" }],
    ];
    for (const [args, msg, env] of cases) {
      const r = await cli(["--db", db, "--json", ...args], { cwd: dir, env });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe("status and locks", () => {
  it("status --json lists tasks with the contract's keys, blocked tasks, locks and resources", async () => {
    const { dir, db } = await imported();
    const s = await store(db);
    s.conn.prepare("UPDATE tasks SET status = 'FAILED', error = 'exit 1' WHERE id = 'A'").run();
    s.conn.prepare("UPDATE tasks SET status = 'IN_PROGRESS', pid = 4242, attempt = 1, started_at = 1000 WHERE id = 'E'").run();
    s.conn.prepare("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES ('demo', 'E', 'docs/e.md', 1000)").run();
    const r = await cli(["--db", db, "--json", "status", "demo", "O1"], { cwd: dir });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const b = out.tasks.find((t: { task: string }) => t.task === "B");
    for (const key of ["task", "order", "status", "blocked", "priority", "attempt", "pid", "started_at", "finished_at", "exit_code", "error", "progress", "target_files"]) {
      expect(b).toHaveProperty(key);
    }
    expect(b).toMatchObject({ status: "QUEUED", blocked: true, order: "O1", progress: null, target_files: ["src/b.ts"] });
    const e = out.tasks.find((t: { task: string }) => t.task === "E");
    expect(e).toMatchObject({ status: "IN_PROGRESS", pid: 4242, attempt: 1, started_at: new Date(1000).toISOString() });
    expect(out.locks).toEqual([{ file: "docs/e.md", task: "E", project: "demo", acquired_at: new Date(1000).toISOString(), host: null }]);
    expect(out.counts).toMatchObject({ QUEUED: 3, FAILED: 1, IN_PROGRESS: 1, BLOCKED: 1 });
    expect(out.resources).toEqual({ monitoring: false, cpu_percent: null, memory_percent: null, healthy: true });
    expect(out.workers).toEqual([expect.objectContaining({ task: "E", pid: 4242, attempt: 1 })]);

    const human = await cli(["--db", db, "status", "demo"], { cwd: dir });
    expect(human.stdout).toContain("BLOCKED (by A)");
    expect(human.stdout).toMatch(/running 1\n\s+E\s+attempt 1\b.*\brunning /);
    const all = await cli(["--db", db, "status", "demo", "--all"], { cwd: dir });
    expect(all.stdout).toContain("BLOCKED (by A)");
    expect(all.stdout).toContain("running workers:");
  });

  it("locks --json lists held locks with project and time; status of an unknown project is exit 2", async () => {
    const { dir, db } = await imported();
    const s = await store(db);
    s.conn.prepare("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES ('demo', 'D', 'src', 5)").run();
    const r = await cli(["--db", db, "--json", "locks"], { cwd: dir });
    expect(JSON.parse(r.stdout)).toEqual({ locks: [{ file: "src", task: "D", project: "demo", acquired_at: new Date(5).toISOString(), host: null }] });
    expect((await cli(["--db", db, "locks", "ghost"], { cwd: dir })).code).toBe(2);
    expect((await cli(["--db", db, "status", "ghost"], { cwd: dir })).code).toBe(2);
  });
});

describe("the aipm binary", () => {
  it("--json keeps stdout to exactly one JSON document for every command", async () => {
    const dir = tempDir();
    const env = { AIPM_DB: join(dir, "db", "aipm.db"), AIPM_ENABLE_MONITORING: "false" };
    const file = writePlan(dir, "plan.json", plan());
    const commands = [
      ["import", file],
      ["task", "add", "demo", "O2", "Z", "--command", "true"],
      ["parallel-launch", "demo", "O1", "--dry-run"],
      ["parallel-launch", "demo", "O1", "--dry-run", "--summary"],
      ["status"],
      ["status", "demo"],
      ["status", "demo", "O1"],
      ["locks"],
      ["locks", "demo"],
      ["demo"],
    ];
    for (const args of commands) {
      const r = bin(["--json", ...args], { cwd: dir, env });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(() => JSON.parse(r.stdout), args.join(" ")).not.toThrow();
      expect(typeof JSON.parse(r.stdout)).toBe("object");
    }
  });

  it("bad input: exit 2, one line on stderr, no stack trace; AIPM_DEBUG=1 shows the stack", () => {
    const dir = tempDir();
    const env = { AIPM_DB: join(dir, "aipm.db") };
    const r = bin(["status", "ghost"], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("aipm: unknown project ghost (import a plan that declares it first)\n");
    const usage = bin(["frobnicate"], { cwd: dir, env });
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split("\n")).toHaveLength(1);
    const debug = bin(["status", "ghost"], { cwd: dir, env: { ...env, AIPM_DEBUG: "1" } });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("demo imports a sample order and shows what would launch and why", () => {
    const dir = tempDir();
    const r = bin(["demo"], { cwd: dir, env: { AIPM_ENABLE_MONITORING: "false" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("would launch:");
    expect(r.stdout).toMatch(/file_conflict/);
    expect(r.stdout).toMatch(/dependency/);
  });
});
