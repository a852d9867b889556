/**
 * Issue 11, item 5: deep chains and deep documents. Every graph walk is
 * iterative: a valid chain of 100,000 tasks imports, a cycle through it is
 * named in one short line, blocked propagation and dependency levels walk it;
 * a JSON or YAML document nested 100,000 deep is exit 2 with one line.
 */
import { describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, cli, tempDir, writePlan, store } from "./helpers.js";
import { yamlTooDeep } from "../src/plan/nesting.js";
import { blockedBy, buildDepGraph, dependencyLevels, findCycle, formatCycle } from "../src/detect/dep-graph.js";

const N = 100_000;

function chain(n: number, cyclic = false) {
  return {
    project: "deep",
    orders: [
      {
        id: "O",
        tasks: Array.from({ length: n }, (_, i) => ({
          id: `T${i}`,
          command: ["true"],
          deps: i > 0 ? [`T${i - 1}`] : cyclic ? [`T${n - 1}`] : [],
        })),
      },
    ],
  };
}

describe("deep chains", () => {
  it("imports a valid linear chain of 100,000 tasks and launches its head (dry run)", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    const file = writePlan(dir, "chain.json", chain(N));
    const t0 = Date.now();
    const r = await cli(["--db", db, "--json", "import", file], { cwd: dir });
    const importMs = Date.now() - t0;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).added).toHaveLength(N);
    const s = await store(db);
    expect(s.conn.prepare("SELECT COUNT(*) FROM task_deps").pluck().get()).toBe(N - 1);
    const d = await cli(["--db", db, "--json", "parallel-launch", "deep", "O", "--dry-run", "--summary"], { cwd: dir });
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout).summary.launchable).toBe(1);
    console.log(`100,000-task chain: import ${importMs} ms`);
    expect(importMs).toBeLessThan(20_000);
  }, 60_000);

  it("names a cycle through 100,000 tasks in one short line, nothing written", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    const r = await cli(["--db", db, "import", writePlan(dir, "cycle.json", chain(N, true))], { cwd: dir });
    expect(r.code).toBe(2);
    const line = r.stderr.split("\n").find((l) => l.includes("cycle:"))!;
    expect(line).toMatch(/cycle: T0 -> T99999 -> T99998 .* -> \.\.\. \(99986 more\) -> .* -> T0$/);
    expect(line.length).toBeLessThan(300);
    expect(existsSync(db)).toBe(false);
  }, 60_000);

  it("blocked propagation, cycle check and dependency levels walk a 100,000 chain without recursion", () => {
    const nodes = chain(N).orders[0]!.tasks.map((t, i) => ({ id: t.id, deps: t.deps, status: i === 0 ? ("FAILED" as const) : ("QUEUED" as const) }));
    const blocked = blockedBy(nodes);
    expect(blocked.size).toBe(N - 1);
    expect(blocked.get(`T${N - 1}`)).toBe("T0");
    expect(findCycle(buildDepGraph(nodes))).toBeNull();
    const levels = dependencyLevels(nodes);
    expect(levels.get(`T${N - 1}`)).toBe(N - 1);
    expect(formatCycle(["A", "B", "A"])).toBe("cycle: A -> B -> A");
  });
});

describe("deep documents", () => {
  const deepJson = "[".repeat(N) + "]".repeat(N);
  const deepMap = '{"a":'.repeat(N) + "1" + "}".repeat(N);
  const cases: Array<[string, string, string]> = [
    ["JSON array nested 100,000 deep", "deep.json", deepJson],
    ["JSON object nested 100,000 deep", "deep-map.json", deepMap],
    ["YAML flow nested 100,000 deep", "deep.yaml", deepJson],
    ["YAML flow map nested 100,000 deep", "deep-map.yaml", deepMap],
    ["YAML block sequence nested 100,000 deep", "dash.yaml", `${"- ".repeat(N)}x\n`],
    ["a plan whose task nests 100,000 deep", "plan.json", `{"project":"p","orders":[{"id":"O","tasks":[{"id":"T","command":${deepJson}}]}]}`],
  ];
  for (const [name, file, text] of cases) {
    it(`${name}: exit 2 with one line, no stack trace, nothing written (real process)`, () => {
      const dir = tempDir();
      writeFileSync(join(dir, file), text);
      const db = join(dir, "aipm.db");
      const r = bin(["--db", db, "import", file], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/nested more than 100 levels deep/);
      expect(existsSync(db)).toBe(false);
    }, 30_000);
  }

  it("the YAML depth check: exact where it matters, quoted brackets are text", () => {
    const indented = (n: number) => Array.from({ length: n }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + " 1\n";
    expect(yamlTooDeep(indented(100))).toBe(false);
    expect(yamlTooDeep(indented(101))).toBe(true);
    expect(yamlTooDeep(`${"- ".repeat(100)}x\n`)).toBe(false);
    expect(yamlTooDeep(`${"- ".repeat(101)}x\n`)).toBe(true);
    expect(yamlTooDeep(`a: "${"[".repeat(5000)}"\nb: '${"{".repeat(5000)}'\nc: |\n  ${"[".repeat(5000)}\n`)).toBe(false);
    expect(yamlTooDeep(`a: ${"[".repeat(101)}${"]".repeat(101)}\n`)).toBe(true);
    expect(yamlTooDeep(`${"[\n".repeat(101)}${"]\n".repeat(101)}`)).toBe(true);
    expect(yamlTooDeep(`a:\n${" [\n".repeat(101)}${" ]\n".repeat(101)}`)).toBe(true);
  });

  it("stdin: a deep document is exit 2 with one line", () => {
    const dir = tempDir();
    const r = bin(["--db", join(dir, "aipm.db"), "import", "-"], { cwd: dir, input: deepJson });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^aipm: stdin: nested more than 100 levels deep/);
  });
});
