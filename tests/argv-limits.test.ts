/**
 * Issue 11, item 3 (input side): a NUL byte or an argument the kernel would
 * refuse (E2BIG) is rejected at import, `task add` and `enqueue`, with its
 * place, exit 2, and nothing written.
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, tempDir, writePlan, store, snapshot } from "./helpers.js";
import { MAX_ARG_BYTES, MAX_ARGV_BYTES, commandProblems } from "../src/plan/argv-limits.js";

const big = "x".repeat(MAX_ARG_BYTES + 1);

function plan(task: Record<string, unknown>) {
  return {
    project: "p",
    orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }, { id: "B", command: ["true"] }, { id: "C", ...task }] }],
  };
}

describe("arguments the kernel would refuse", () => {
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ["a NUL byte in an argv argument", { command: ["echo", "a\u0000b"] }, "orders[0].tasks[2].command[1]: contains a NUL byte"],
    ["a NUL byte in a shell string", { command: "echo a\u0000b" }, "orders[0].tasks[2].command: contains a NUL byte"],
    ["a NUL byte in a prompt", { prompt: "fix\u0000it" }, "orders[0].tasks[2].prompt: contains a NUL byte"],
    ["a NUL byte in a model", { prompt: "x", model: "son\u0000net" }, "orders[0].tasks[2].model: contains a NUL byte"],
    ["one argument over 128 KiB", { command: ["echo", big] }, "orders[0].tasks[2].command[1]: 131,072 bytes, over the kernel's limit of 131,071 bytes"],
    ["a shell string over 128 KiB", { command: big }, "orders[0].tasks[2].command: 131,072 bytes"],
    [
      "an argv over 1 MiB in all",
      { command: ["echo", ...Array.from({ length: 9 }, () => "y".repeat(120_000))] },
      "orders[0].tasks[2].command: arguments of 1,080,014 bytes in all, over aipm's limit of 1,048,576 bytes",
    ],
    ["multi-byte characters counted as bytes", { command: ["echo", "é".repeat(65_536)] }, "orders[0].tasks[2].command[1]: 131,072 bytes"],
    ["an empty program name", { command: [""] }, "orders[0].tasks[2].command[0]: empty program name"],
    [
      "target files over 128 KiB as AIPM_TARGET_FILES",
      { command: ["true"], target_files: Array.from({ length: 2000 }, (_, i) => `src/${"d".repeat(60)}/${i}.ts`) },
      "orders[0].tasks[2].target_files: as AIPM_TARGET_FILES,",
    ],
  ];
  for (const [name, task, message] of bad) {
    it(`import rejects ${name}: exit 2, its place, nothing written`, async () => {
      const dir = tempDir();
      const db = join(dir, "aipm.db");
      // An earlier import: the bad one must leave it exactly as it was.
      expect((await cli(["--db", db, "import", writePlan(dir, "good.json", plan({ command: ["true"] }))], { cwd: dir })).code).toBe(0);
      const s = await store(db);
      const before = snapshot(s);
      const r = await cli(["--db", db, "import", writePlan(dir, "bad.json", plan(task))], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(snapshot(s)).toBe(before);
    });
  }

  it("just under the limits is accepted", () => {
    expect(commandProblems(["echo", "x".repeat(MAX_ARG_BYTES)], "c")).toEqual([]);
    const parts = Array.from({ length: 8 }, () => "y".repeat(MAX_ARGV_BYTES / 8 - 1));
    expect(commandProblems(parts, "c")).toEqual([]);
    expect(commandProblems([...parts, "z"], "c")).toHaveLength(1);
  });

  it("task add rejects a NUL byte and an over-long argument with their place, nothing written", async () => {
    const dir = tempDir();
    const db = join(dir, "aipm.db");
    expect((await cli(["--db", db, "import", writePlan(dir, "good.json", plan({ command: ["true"] }))], { cwd: dir })).code).toBe(0);
    const s = await store(db);
    const before = snapshot(s);
    const nul = await cli(["--db", db, "task", "add", "p", "O", "D", "--", "echo", "a\u0000b"], { cwd: dir });
    expect(nul.code).toBe(2);
    expect(nul.stderr).toContain("task.command[1]: contains a NUL byte");
    const long = await cli(["--db", db, "task", "add", "p", "O", "D", "--command", big], { cwd: dir });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("task.command: 131,072 bytes, over the kernel's limit");
    expect(snapshot(s)).toBe(before);
  });

  it("enqueue rejects them before creating a database", async () => {
    // In-process: no real process can even be given such an argv.
    const dir = tempDir();
    const r = await cli(["enqueue", "job", "--", "echo", "a\u0001b", big], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^aipm: command\[2\]: 131,072 bytes, over the kernel's limit/);
    expect(existsSync(join(dir, ".aipm"))).toBe(false);
  });
});
