/**
 * Issue 11, items 6 and 7: `.` and `..` are never ids (they would be path
 * segments of log folders), wherever an id is accepted; ids such as
 * `__proto__` and `constructor` are plain strings on every path keyed by id.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bin, cli, tempDir, writePlan, store, snapshot } from "./helpers.js";

function plan(over: { project?: string; order?: string; task?: string; dep?: string }) {
  return {
    project: over.project ?? "p",
    orders: [
      {
        id: over.order ?? "O",
        tasks: [
          { id: "A", command: ["true"] },
          { id: over.task ?? "B", deps: [over.dep ?? "A"], command: ["true"] },
        ],
      },
    ],
  };
}

describe("ids . and ..", () => {
  const bad: Array<[string, Parameters<typeof plan>[0], string]> = [
    ["project .", { project: "." }, 'project: bad project id "." (. and .. cannot be ids)'],
    ["project ..", { project: ".." }, 'project: bad project id ".."'],
    ["order ..", { order: ".." }, 'orders[0].id: bad order id ".."'],
    ["task .", { task: "." }, 'orders[0].tasks[1].id: bad task id "."'],
    ["dependency ..", { dep: ".." }, 'orders[0].tasks[1].deps[0]: bad task id ".."'],
  ];
  for (const [name, over, message] of bad) {
    it(`import rejects ${name}: exit 2, its place, nothing written`, async () => {
      const dir = tempDir();
      const db = join(dir, "aipm.db");
      const r = await cli(["--db", db, "import", writePlan(dir, "plan.json", plan(over))], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(existsSync(db)).toBe(false);
    });
  }

  it("ids that merely contain dots are fine", async () => {
    const dir = tempDir();
    const r = await cli(["--db", join(dir, "aipm.db"), "import", writePlan(dir, "plan.json", plan({ project: "a.b", order: "...", task: ".x" }))], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("every command that takes PROJECT, ORDER, TASK or --project refuses . and .. before touching the database", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    expect((await cli(["--db", db, "import", writePlan(dir, "plan.json", plan({}))], { cwd: dir })).code).toBe(0);
    const s = await store(db);
    const before = snapshot(s);
    const commands: string[][] = [
      ["task", "add", "p", "O", "..", "--command", "true"],
      ["task", "add", "..", "O", "X", "--command", "true"],
      ["task", "add", "p", ".", "X", "--command", "true"],
      ["task", "add", "p", "O", "X", "--command", "true", "--deps", "A,.."],
      ["parallel-launch", "p", "..", "--dry-run"],
      ["parallel-launch", ".", "O", "--dry-run"],
      ["execute-task", "p", ".."],
      ["wait", "..", "O"],
      ["status", ".."],
      ["status", "p", "."],
      ["locks", ".."],
      ["kill", ".."],
      ["kill", "A", "--project", ".."],
      ["retry", "."],
      ["pause", "p", ".."],
      ["resume", "..", "O"],
      ["logs", ".."],
      ["logs", "A", "--project", "."],
      ["enqueue", "..", "--", "true"],
      ["enqueue", ".", "--", "true"],
    ];
    for (const args of commands) {
      const r = await cli(["--db", db, ...args], { cwd: dir });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/bad (project|order|task|queue) id "\.\.?"/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(snapshot(s)).toBe(before);
  });
});

describe("ids that are Object.prototype names", () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

  it("import, dry-run, a real run and status --json all work with them as project, order and task ids", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    const doc = {
      project: "__proto__",
      orders: [
        {
          id: "constructor",
          tasks: names.map((id, i) => ({
            id,
            command: ["sh", "-c", `echo ${i}`],
            deps: i > 0 ? [names[i - 1]!] : [],
            target_files: [`f/${id}`],
          })),
        },
        { id: "toString", tasks: [{ id: "prototype", deps: ["valueOf"], command: ["true"], target_files: ["f/__proto__"] }] },
      ],
    };
    const imp = await cli(["--db", db, "--json", "import", writePlan(dir, "plan.json", doc)], { cwd: dir });
    expect(imp.stderr).toBe("");
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout).added).toEqual([...names, "prototype"]);

    const dry = await cli(["--db", db, "--json", "parallel-launch", "__proto__", "constructor", "--dry-run"], { cwd: dir });
    expect(dry.code).toBe(0);
    const d = JSON.parse(dry.stdout);
    expect(d.launchable.map((t: { task: string }) => t.task)).toEqual(["__proto__"]);
    expect(d.skipped).toContainEqual({ task: "constructor", reason: "dependency", waiting_for: ["__proto__"] });

    // A real run, order by order, to the end.
    for (const order of ["constructor", "toString"]) {
      const w = bin(["--db", db, "--json", "parallel-launch", "__proto__", order, "--wait", "--timeout", "60", "--no-resource-monitoring"], { cwd: dir });
      expect(w.stderr).not.toMatch(/TypeError|Cannot/);
      expect(JSON.parse(w.stdout).done).toBe(true);
    }
    const st = await cli(["--db", db, "--json", "status", "__proto__"], { cwd: dir });
    expect(st.code).toBe(0);
    const tasks = JSON.parse(st.stdout).tasks as Array<{ task: string; status: string; order: string }>;
    expect(tasks.map((t) => [t.task, t.status])).toEqual([...names, "prototype"].map((id) => [id, "DONE"]));
    const logs = await cli(["--db", db, "--json", "logs", "hasOwnProperty", "--project", "__proto__"], { cwd: dir });
    expect(JSON.parse(logs.stdout).content).toContain("3");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 90_000);

  it("task add with such ids, and a dependency on constructor", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    expect((await cli(["--db", db, "import", writePlan(dir, "plan.json", plan({ project: "constructor" }))], { cwd: dir })).code).toBe(0);
    const a = await cli(["--db", db, "task", "add", "constructor", "__proto__", "toString", "--command", "true", "--deps", "A"], { cwd: dir });
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    const b = await cli(["--db", db, "task", "add", "constructor", "__proto__", "__proto__", "--command", "true", "--deps", "toString"], { cwd: dir });
    expect(b.code).toBe(0);
    const c = await cli(["--db", db, "task", "add", "constructor", "__proto__", "valueOf", "--command", "true", "--deps", "hasOwnProperty"], { cwd: dir });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("unknown task hasOwnProperty");
  });
});
