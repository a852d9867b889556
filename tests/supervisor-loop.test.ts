/**
 * Issue 15, target 4: what keeps the supervisor's event loop free while
 * agents stream, and the switch that measures it (AIPM_LOOP_STATS).
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "./helpers.js";
import { aipm, importPlan, setup, taskStatus } from "./runtime-helpers.js";

const BUILT = join(REPO, "dist", "src");

/** A stream-json log as Claude Code writes it: init, a tool call and its result, the final result. */
function agentLog(path: string): void {
  const lines = [
    { type: "system", subtype: "init", session_id: "s-1", model: "claude-x", tools: ["Edit"] },
    { type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Edit", input: { file_path: "src/a.ts" } }] }, session_id: "s-1" },
    { type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "ok" }] }, session_id: "s-1" },
    { type: "result", subtype: "success", is_error: false, num_turns: 2, result: "done", session_id: "s-1", total_cost_usd: 0.25, usage: {} },
  ];
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
}

describe("the supervisor's event loop", () => {
  it("an ended agent's log is read back on a worker thread (the built supervisor), with the same summary as in place", async () => {
    const { OffThread } = (await import(pathToFileURL(join(BUILT, "runtime", "off-thread.js")).href)) as typeof import("../src/runtime/off-thread.js");
    const { readAgentLog } = (await import(pathToFileURL(join(BUILT, "agent", "read-agent-log.js")).href)) as typeof import("../src/agent/read-agent-log.js");
    const ctx = setup();
    const log = join(ctx.dir, "1.log");
    agentLog(log);
    const off = new OffThread();
    try {
      expect(await off.onThread()).toBe(true);
      const summary = await off.readAgentLog(log);
      expect(summary).toEqual(readAgentLog(log));
      expect(summary.result?.total_cost_usd).toBe(0.25);
      expect(summary.editedFiles).toEqual(["src/a.ts"]);
    } finally {
      off.close();
    }
  });

  it("AIPM_LOOP_STATS: the supervisor appends its CPU, peak RSS and event-loop delay when it stops", async () => {
    const ctx = setup();
    const file = join(ctx.dir, "loop.jsonl");
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }, { id: "B", command: ["true"], deps: ["A"] }] }] });
    const r = await aipm(ctx, ["parallel-launch", "p", "O", "--wait"], { env: { AIPM_LOOP_STATS: file } });
    expect(r.code).toBe(0);
    expect((await taskStatus(ctx, "p", "B")).status).toBe("DONE");
    expect(existsSync(file)).toBe(true);
    const stats = JSON.parse(readFileSync(file, "utf8").trim().split("\n").pop()!);
    expect(stats).toMatchObject({ pid: expect.any(Number), wall_ms: expect.any(Number), cpu_ms: expect.any(Number), rss_max_mb: expect.any(Number) });
    expect(stats.rss_max_mb).toBeGreaterThan(10);
    expect(stats.eld_p99_ms).toBeGreaterThanOrEqual(0);
    expect(stats.eld_max_ms).toBeGreaterThanOrEqual(stats.eld_p99_ms);
  });
});
