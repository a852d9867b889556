/**
 * Long jobs (issue 13): priority preemption, staged stall warnings, and
 * checkpoints that survive a SIGKILL — real processes through the binary.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { aipm, importPlan, readJson, setup, taskStatus, waitFor } from "./runtime-helpers.js";
import { store } from "./helpers.js";

async function rows(db: string, sql: string, ...args: unknown[]): Promise<any[]> {
  const s = await store(db);
  try {
    return s.conn.prepare(sql).all(...args) as any[];
  } finally {
    s.close();
  }
}

describe("preemption", () => {
  it("a P0 task stops a running P3 one that holds the only slot; the P3 gets its attempt back and runs again after", async () => {
    const ctx = setup();
    const marker = join(ctx.dir, "low-ran-once");
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O",
          preempt: true,
          tasks: [{ id: "LOW", priority: "P3", max_attempts: 1, command: ["sh", "-c", `if [ -f ${marker} ]; then exit 0; fi; touch ${marker}; sleep 60`] }],
        },
      ],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O", "--max-workers", "1"])).code).toBe(0);
    await waitFor(() => existsSync(marker), { what: "LOW running" });
    expect((await aipm(ctx, ["task", "add", "p", "O", "HIGH", "--priority", "P0", "--command", "true"])).code).toBe(0);
    const w = await readJson(ctx, ["wait", "p", "O", "--timeout", "30"]);
    expect(w).toMatchObject({ done: true });
    const runs = await rows(ctx.db, "SELECT task_id, attempt, outcome, started_at, finished_at FROM runs ORDER BY started_at");
    expect(runs.map((r) => [r.task_id, r.outcome])).toEqual([
      ["LOW", "preempted"],
      ["HIGH", "succeeded"],
      ["LOW", "succeeded"],
    ]);
    // Never two at once: the slot passed from one to the next.
    expect(runs[1].started_at).toBeGreaterThanOrEqual(runs[0].finished_at);
    expect(runs[2].started_at).toBeGreaterThanOrEqual(runs[1].finished_at);
    // Its preempted run did not count against max_attempts: 1.
    const [low] = await rows(ctx.db, "SELECT status, attempt, spent_attempts FROM tasks WHERE id = 'LOW'");
    expect(low).toEqual({ status: "DONE", attempt: 2, spent_attempts: 1 });
    const events = await rows(ctx.db, "SELECT kind, data FROM events WHERE task_id = 'LOW' AND kind IN ('task_preempting', 'task_preempted') ORDER BY id");
    expect(events.map((e) => e.kind)).toEqual(["task_preempting", "task_preempted"]);
    expect(JSON.parse(events[0].data)).toMatchObject({ by: "HIGH", reason: "capacity" });
  });

  it("without preempt, the P0 task waits for the slot", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "LOW", priority: "P3", command: ["sleep", "1"] }] }] });
    await aipm(ctx, ["parallel-launch", "p", "O", "--max-workers", "1"]);
    await aipm(ctx, ["task", "add", "p", "O", "HIGH", "--priority", "P0", "--command", "true"]);
    await readJson(ctx, ["wait", "p", "O", "--timeout", "30"]);
    const runs = await rows(ctx.db, "SELECT task_id, outcome FROM runs ORDER BY started_at");
    expect(runs).toEqual([
      { task_id: "LOW", outcome: "succeeded" },
      { task_id: "HIGH", outcome: "succeeded" },
    ]);
  });
});

describe("staged stall warnings", () => {
  it("two warning stages, then the kill: each is an event and one notification, never sent twice", async () => {
    const ctx = setup();
    const out = join(ctx.dir, "notified.jsonl");
    ctx.env.AIPM_NOTIFY_CMD = JSON.stringify(["sh", "-c", 'cat >> "$0"; echo >> "$0"', out]);
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O", tasks: [{ id: "QUIET", command: ["sleep", "30"], max_attempts: 1, stall_warn_s: [0.5, 1], stall_kill_s: 1.8 }] }],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O", "--wait"]);
    expect(r.code).toBe(1);
    expect(await taskStatus(ctx, "p", "QUIET")).toMatchObject({ status: "FAILED", failure_kind: "stalled" });
    const events = await rows(ctx.db, "SELECT kind, data FROM events WHERE task_id = 'QUIET' AND kind LIKE 'task_stall%' ORDER BY id");
    expect(events.map((e) => [e.kind, JSON.parse(e.data).stage ?? null])).toEqual([
      ["task_stall_warning", 1],
      ["task_stall_warning", 2],
      ["task_stall_killed", null],
    ]);
    const kinds = () =>
      readFileSync(out, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l).kind)
        .filter((k: string) => k.startsWith("task_stall"));
    await waitFor(() => kinds().length >= 3, { what: "three notifications" });
    // Another aipm process looks at the event log: nothing is sent again.
    await aipm(ctx, ["status", "p"]);
    expect(kinds()).toEqual(["task_stall_warning", "task_stall_warning", "task_stall_killed"]);
  });

  it("AIPM_STALL_WARN_S takes stages; a bad list is exit 2 naming the variable", async () => {
    const ctx = setup({ AIPM_STALL_WARN_S: "600,300" });
    const r = await aipm(ctx, ["status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^aipm: AIPM_STALL_WARN_S: expected .* increasing .*got '600,300'/);
  });
});

describe("checkpoints", () => {
  it("a job that checkpoints in AIPM_STATE_DIR is killed with SIGKILL and finishes on its next attempt from the checkpoint", async () => {
    const ctx = setup();
    const trace = join(ctx.dir, "trace");
    // Steps 1..5; the step done last is kept in $AIPM_STATE_DIR/step. The first run stops for good after step 3.
    const job = [
      'step=$(cat "$AIPM_STATE_DIR/step" 2>/dev/null || echo 0)',
      `echo "attempt $AIPM_ATTEMPT resume=\${AIPM_RESUME:-0} after=\${AIPM_PREVIOUS_OUTCOME:-none} from=$step" >> ${trace}`,
      "i=$((step + 1))",
      "while [ $i -le 5 ]; do",
      `  echo "step $i" >> ${trace}`,
      '  echo $i > "$AIPM_STATE_DIR/step"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script: its ${...} is the shell's
      '  if [ $i -eq 3 ] && [ "${AIPM_RESUME:-0}" != 1 ]; then sleep 60; fi',
      "  i=$((i + 1))",
      "done",
    ].join("\n");
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O", tasks: [{ id: "JOB", command: ["sh", "-c", job] }] }] });
    await aipm(ctx, ["parallel-launch", "p", "O"]);
    await waitFor(() => existsSync(trace) && readFileSync(trace, "utf8").includes("step 3"), { what: "step 3" });
    const { pid } = await taskStatus(ctx, "p", "JOB");
    process.kill(-pid!, "SIGKILL");
    const w = await readJson(ctx, ["wait", "p", "O", "--timeout", "30"]);
    expect(w).toMatchObject({ done: true });
    expect(readFileSync(trace, "utf8").trim().split("\n")).toEqual([
      "attempt 1 resume=0 after=none from=0",
      "step 1",
      "step 2",
      "step 3",
      "attempt 2 resume=1 after=crashed from=3",
      "step 4",
      "step 5",
    ]);
    // Once DONE, its checkpoints are removed.
    expect(existsSync(join(ctx.dbDir, "state", "p", "JOB"))).toBe(false);
  });
});

describe("cleanup", () => {
  it("removes the logs, runs and checkpoints of ended tasks; logs then says what became of them", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O", tasks: [{ id: "F", command: ["sh", "-c", 'echo saved > "$AIPM_STATE_DIR/ckpt"; echo out; exit 4'], max_attempts: 1 }] }],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O", "--wait"])).code).toBe(1);
    const state = join(ctx.dbDir, "state", "p", "F");
    expect(existsSync(join(state, "ckpt"))).toBe(true);
    expect((await aipm(ctx, ["logs", "F"])).stdout).toContain("out");
    const c = await readJson(ctx, ["cleanup", "--days", "0"]);
    expect(c).toMatchObject({ runs_deleted: 1 });
    expect(existsSync(state)).toBe(false);
    expect((await aipm(ctx, ["logs", "F"])).stdout).toBe("(F is FAILED: its logs were removed by aipm cleanup)\n");
  });
});
