import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, bin, tempDir, writePlan, store, snapshot } from "./helpers.js";

function basePlan() {
  return {
    project: "demo",
    root: "./workspace",
    orders: [
      {
        id: "ORDER_001",
        title: "Login feature",
        tasks: [
          { id: "TASK_001", title: "Schema", priority: "P1", target_files: ["./src//db/schema.ts"], command: ["npm", "test"] },
          { id: "TASK_002", title: "API", deps: ["TASK_001"], target_files: ["src/api/**"], prompt: "Implement login", model: "sonnet" },
          { id: "TASK_003", title: "Docs", target_files: ["docs/"], command: "echo docs" },
        ],
      },
    ],
  };
}

type Plan = ReturnType<typeof basePlan>;

async function setup() {
  const dir = tempDir();
  const db = join(dir, "state", "aipm.db");
  return { dir, db };
}

describe("aipm import", () => {
  it("loads a plan: tasks, deps, normalised target files, defaults, root created relative to the plan", async () => {
    const { dir, db } = await setup();
    const file = writePlan(dir, "plan.json", basePlan());
    const r = await cli(["--db", db, "--json", "import", file], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ project: "demo", orders: ["ORDER_001"], added: ["TASK_001", "TASK_002", "TASK_003"], updated: [] });
    expect(existsSync(join(dir, "workspace"))).toBe(true);

    const s = await store(db);
    const tasks = s.conn.prepare("SELECT id, status, priority, review, max_attempts, command, prompt, model FROM tasks ORDER BY seq").all();
    expect(tasks).toEqual([
      { id: "TASK_001", status: "QUEUED", priority: "P1", review: 0, max_attempts: 3, command: '["npm","test"]', prompt: null, model: null },
      { id: "TASK_002", status: "QUEUED", priority: "P2", review: 1, max_attempts: 3, command: null, prompt: "Implement login", model: "sonnet" },
      { id: "TASK_003", status: "QUEUED", priority: "P2", review: 0, max_attempts: 3, command: '"echo docs"', prompt: null, model: null },
    ]);
    expect(s.conn.prepare("SELECT task_id, dep_id FROM task_deps").all()).toEqual([{ task_id: "TASK_002", dep_id: "TASK_001" }]);
    expect(s.conn.prepare("SELECT task_id, path FROM task_files ORDER BY task_id").all()).toEqual([
      { task_id: "TASK_001", path: "src/db/schema.ts" },
      { task_id: "TASK_002", path: "src/api/**" },
      { task_id: "TASK_003", path: "docs" },
    ]);
    expect(s.conn.prepare("SELECT root FROM projects").get()).toEqual({ root: join(dir, "workspace") });
  });

  it("reads YAML, and YAML from stdin with -", async () => {
    const { dir, db } = await setup();
    const yaml = [
      "project: demo",
      "orders:",
      "  - id: ORDER_001",
      "    tasks:",
      "      - id: TASK_001",
      "        command: [\"true\"]",
      "      - id: TASK_002",
      "        deps: [TASK_001]",
      "        status: COMPLETED",
      "        prompt: hi",
    ].join("\n");
    const file = writePlan(dir, "plan.yaml", yaml);
    expect((await cli(["--db", db, "import", file], { cwd: dir })).code).toBe(0);
    const s = await store(db);
    expect(s.conn.prepare("SELECT id, status FROM tasks ORDER BY seq").all()).toEqual([
      { id: "TASK_001", status: "QUEUED" },
      { id: "TASK_002", status: "DONE" },
    ]);

    const db2 = join(dir, "other.db");
    const r = bin(["--db", db2, "--json", "import", "-"], { cwd: dir, input: yaml });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).added).toEqual(["TASK_001", "TASK_002"]);
  });

  const mutate = (f: (p: Plan) => void): Plan => {
    const p = basePlan();
    f(p);
    return p;
  };
  const t = (p: Plan, i: number) => p.orders[0]!.tasks[i] as Record<string, unknown>;

  const badPlans: Array<[string, Plan | string, string]> = [
    ["unknown dependency", mutate((p) => (t(p, 1).deps = ["TASK_9"])), "orders[0].tasks[1].deps[0]: unknown task TASK_9"],
    [
      "dependency cycle",
      mutate((p) => {
        t(p, 0).deps = ["TASK_002"];
      }),
      "cycle: TASK_001 -> TASK_002 -> TASK_001",
    ],
    ["self dependency", mutate((p) => (t(p, 2).deps = ["TASK_003"])), "cycle: TASK_003 -> TASK_003"],
    ["duplicate task id", mutate((p) => (t(p, 2).id = "TASK_001")), "orders[0].tasks[2].id: duplicate task id TASK_001"],
    ["bad priority", mutate((p) => (t(p, 0).priority = "P7")), "orders[0].tasks[0].priority: bad priority \"P7\""],
    ["bad task id", mutate((p) => (t(p, 0).id = "TASK 1")), "orders[0].tasks[0].id: bad task id \"TASK 1\""],
    ["bad project id", mutate((p) => (p.project = "a/b")), "project: bad project id \"a/b\""],
    [
      "both command and prompt",
      mutate((p) => (t(p, 0).prompt = "x")),
      "orders[0].tasks[0]: needs exactly one of command or prompt, got both",
    ],
    [
      "neither command nor prompt",
      mutate((p) => delete t(p, 2).command),
      "orders[0].tasks[2]: needs exactly one of command or prompt, got neither",
    ],
    [
      "path escaping the root",
      mutate((p) => (t(p, 0).target_files = ["src/../../etc/passwd"])),
      "orders[0].tasks[0].target_files[0]:",
    ],
    ["absolute path", mutate((p) => (t(p, 0).target_files = ["/etc/passwd"])), "orders[0].tasks[0].target_files[0]:"],
    ["malformed JSON", '{"project": "demo", "orders": [', "malformed JSON"],
  ];

  for (const [name, plan, message] of badPlans) {
    it(`rejects ${name}: exit 2, the problem named with its place, nothing written`, async () => {
      const { dir, db } = await setup();
      // An earlier, valid import: the bad one must leave it exactly as it was.
      const good = writePlan(dir, "good.json", { project: "other", orders: [{ id: "O", tasks: [{ id: "X", command: "true" }] }] });
      expect((await cli(["--db", db, "import", good], { cwd: dir })).code).toBe(0);
      const s = await store(db);
      const before = snapshot(s);

      const file = writePlan(dir, "bad.json", plan);
      const r = await cli(["--db", db, "--json", "import", file], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(snapshot(s)).toBe(before);
      expect(existsSync(join(dir, "workspace"))).toBe(false);
    });
  }

  it("rejects malformed YAML with one line naming the file", async () => {
    const { dir, db } = await setup();
    const file = writePlan(dir, "plan.yaml", "project: demo\norders: [\n  - id: x\n   bad");
    const r = await cli(["--db", db, "import", file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/plan\.yaml: malformed YAML: /);
  });

  it("reports every problem of a plan at once", async () => {
    const { dir, db } = await setup();
    const plan = mutate((p) => {
      t(p, 0).priority = "urgent";
      t(p, 2).target_files = ["../x"];
    });
    const r = await cli(["--db", db, "import", writePlan(dir, "p.json", plan)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("orders[0].tasks[0].priority");
    expect(r.stderr).toContain("orders[0].tasks[2].target_files[0]");
  });

  it("rejects a missing plan file with exit 2", async () => {
    const { dir, db } = await setup();
    const r = await cli(["--db", db, "import", join(dir, "nope.yaml")], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read plan file");
  });

  it("is idempotent: importing the same plan again changes no task", async () => {
    const { dir, db } = await setup();
    const file = writePlan(dir, "plan.json", basePlan());
    await cli(["--db", db, "import", file], { cwd: dir });
    const s = await store(db);
    const rows = () =>
      JSON.stringify(s.conn.prepare("SELECT seq, id, order_id, title, priority, status, command, prompt, attempt FROM tasks ORDER BY seq").all()) +
      JSON.stringify(s.conn.prepare("SELECT * FROM task_deps ORDER BY task_id, dep_id").all()) +
      JSON.stringify(s.conn.prepare("SELECT * FROM task_files ORDER BY task_id, position").all());
    const before = rows();
    const r = await cli(["--db", db, "--json", "import", file], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: [], updated: ["TASK_001", "TASK_002", "TASK_003"], kept: [] });
    expect(rows()).toBe(before);
  });

  it("re-import updates QUEUED tasks, adds new ones, and never touches started or finished ones", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    const s = await store(db);
    s.conn.prepare("UPDATE tasks SET status = 'DONE' WHERE id = 'TASK_001'").run();
    s.conn.prepare("UPDATE tasks SET status = 'IN_PROGRESS' WHERE id = 'TASK_003'").run();

    const next = basePlan();
    for (const task of next.orders[0]!.tasks) (task as Record<string, unknown>).title = "changed";
    (next.orders[0]!.tasks as unknown[]).push({ id: "TASK_004", deps: ["TASK_002"], command: ["true"] });
    const r = await cli(["--db", db, "--json", "import", writePlan(dir, "plan2.json", next)], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      added: ["TASK_004"],
      updated: ["TASK_002"],
      kept: [
        { task: "TASK_001", status: "DONE" },
        { task: "TASK_003", status: "IN_PROGRESS" },
      ],
    });
    expect(s.conn.prepare("SELECT id, title, status FROM tasks ORDER BY seq").all()).toEqual([
      { id: "TASK_001", title: "Schema", status: "DONE" },
      { id: "TASK_002", title: "changed", status: "QUEUED" },
      { id: "TASK_003", title: "Docs", status: "IN_PROGRESS" },
      { id: "TASK_004", title: "", status: "QUEUED" },
    ]);
  });

  it("re-import keeps what an order and its project leave out (title, allowed_tools, budget_usd, preempt) and sets what they say; [] clears the rules", async () => {
    const { dir, db } = await setup();
    const task = { id: "A", command: "true" };
    const full = { project: "demo", root: "./w", allowed_tools: ["Bash(npm test *)"], orders: [{ id: "O", title: "First", allowed_tools: ["Bash(ls *)"], budget_usd: 2, preempt: true, tasks: [task] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "full.json", full)], { cwd: dir })).code).toBe(0);
    const s = await store(db);
    const order = () => s.conn.prepare("SELECT title, allowed_tools, budget_usd, preempt FROM orders WHERE id = 'O'").get();
    const projectRules = () => s.conn.prepare("SELECT allowed_tools FROM projects WHERE id = 'demo'").pluck().get();
    const first = { title: "First", allowed_tools: '["Bash(ls *)"]', budget_usd: 2, preempt: 1 };
    expect(order()).toEqual(first);
    expect(projectRules()).toBe('["Bash(npm test *)"]');

    const bare = { project: "demo", orders: [{ id: "O", tasks: [task] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "bare.json", bare)], { cwd: dir })).code).toBe(0);
    expect(order()).toEqual(first);
    expect(projectRules()).toBe('["Bash(npm test *)"]');

    const other = { project: "demo", allowed_tools: [], orders: [{ id: "O", title: "Second", allowed_tools: [], budget_usd: 5, preempt: false, tasks: [task] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "other.json", other)], { cwd: dir })).code).toBe(0);
    expect(order()).toEqual({ title: "Second", allowed_tools: null, budget_usd: 5, preempt: 0 });
    expect(projectRules()).toBeNull();
    const fresh = { project: "demo", orders: [{ id: "O2", tasks: [{ id: "B", command: "true" }] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "fresh.json", fresh)], { cwd: dir })).code).toBe(0);
    expect(s.conn.prepare("SELECT title, allowed_tools, budget_usd, preempt FROM orders WHERE id = 'O2'").get()).toEqual({ title: "", allowed_tools: null, budget_usd: null, preempt: 0 });
  });

  it("refuses to move a task to another order", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    const other = { project: "demo", orders: [{ id: "ORDER_002", tasks: [{ id: "TASK_001", command: "true" }] }] };
    const r = await cli(["--db", db, "import", writePlan(dir, "p2.json", other)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("orders[0].tasks[0].id: task TASK_001 already exists in order ORDER_001");
  });

  it("accepts dependencies on tasks of other orders already in the project, and finds cycles through them", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    const ok = { project: "demo", orders: [{ id: "ORDER_002", tasks: [{ id: "B1", deps: ["TASK_002"], command: "true" }] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "ok.json", ok)], { cwd: dir })).code).toBe(0);
    const cyc = basePlan();
    t(cyc, 0).deps = ["B1"];
    const r = await cli(["--db", db, "import", writePlan(dir, "cyc.json", cyc)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cycle: B1 -> TASK_002 -> TASK_001 -> B1");
  });
});

describe("aipm task add", () => {
  it("adds a task to a new order of an existing project", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    const r = await cli(
      ["--db", db, "--json", "task", "add", "demo", "ORDER_009", "T9", "--title", "Nine", "--deps", "TASK_001,TASK_002", "--files", "a.ts,./b//c.ts", "--priority", "P0", "--command", "npm", "run", "build"],
      { cwd: dir },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).added).toEqual(["T9"]);
    const s = await store(db);
    expect(s.conn.prepare("SELECT order_id, title, priority, command FROM tasks WHERE id = 'T9'").get()).toEqual({
      order_id: "ORDER_009",
      title: "Nine",
      priority: "P0",
      command: '["npm","run","build"]',
    });
    expect(s.conn.prepare("SELECT path FROM task_files WHERE task_id = 'T9' ORDER BY position").all()).toEqual([
      { path: "a.ts" },
      { path: "b/c.ts" },
    ]);
    expect(s.conn.prepare("SELECT id FROM orders ORDER BY created_at, id").all()).toEqual([{ id: "ORDER_001" }, { id: "ORDER_009" }]);
  });

  it("takes a shell string, an argv after --, or a prompt", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    await cli(["--db", db, "task", "add", "demo", "O", "S1", "--command", "make -j2 all"], { cwd: dir });
    await cli(["--db", db, "task", "add", "demo", "O", "S2", "--", "pytest", "-x", "--tb=short"], { cwd: dir });
    await cli(["--db", db, "task", "add", "demo", "O", "S3", "--prompt", "Fix the bug"], { cwd: dir });
    const s = await store(db);
    expect(s.conn.prepare("SELECT id, command, prompt, review FROM tasks WHERE order_id = 'O' ORDER BY seq").all()).toEqual([
      { id: "S1", command: '"make -j2 all"', prompt: null, review: 0 },
      { id: "S2", command: '["pytest","-x","--tb=short"]', prompt: null, review: 0 },
      { id: "S3", command: null, prompt: "Fix the bug", review: 1 },
    ]);
  });

  it("rejects an unknown project, a duplicate id, an unknown dep and a bad priority with exit 2", async () => {
    const { dir, db } = await setup();
    await cli(["--db", db, "import", writePlan(dir, "plan.json", basePlan())], { cwd: dir });
    const s = await store(db);
    const before = snapshot(s);
    const cases: Array<[string[], string]> = [
      [["task", "add", "nope", "O", "T", "--command", "true"], "unknown project nope"],
      [["task", "add", "demo", "O", "TASK_001", "--command", "true"], "task TASK_001 already exists"],
      [["task", "add", "demo", "O", "T", "--command", "true", "--deps", "GHOST"], "unknown task GHOST"],
      [["task", "add", "demo", "O", "T", "--command", "true", "--priority", "high"], "bad priority"],
      [["task", "add", "demo", "O", "T"], "needs exactly one of command or prompt"],
    ];
    for (const [args, message] of cases) {
      const r = await cli(["--db", db, ...args], { cwd: dir });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(snapshot(s)).toBe(before);
  });
});
