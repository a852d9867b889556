/**
 * Claude Code workers end to end, with the fake Claude (tests/fake-claude)
 * first on PATH: the default agent command and the default review command
 * run it as they would run `claude`. Each case drives the built binary and
 * reads the outcome from `status --json`, `wait --json`, the database and
 * what the fake recorded of its own runs (argv, prompt, variables).
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { store } from "./helpers.js";
import { aipm, importPlan, readJson, setup, supervisorProcesses, waitFor, type Ctx } from "./runtime-helpers.js";

const FAKE_DIR = join(dirname(fileURLToPath(import.meta.url)), "fake-claude");

function agentSetup(extra: Record<string, string> = {}): Ctx {
  const ctx = setup({ FAKE_CLAUDE_RECORD: "", ...extra });
  ctx.env.PATH = `${FAKE_DIR}:${ctx.env.PATH}`;
  ctx.env.FAKE_CLAUDE_RECORD = join(ctx.dir, "claude-rec");
  return ctx;
}

interface Recorded {
  argv: string[];
  prompt: string;
  cwd: string;
  vars: Record<string, string>;
}

/** What the fake recorded of its runs for a task: work runs by attempt, or reviews. */
function runsOf(ctx: Ctx, task: string, review = false): Array<Recorded & { attempt: number }> {
  const dir = join(ctx.dir, "claude-rec");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${task}-`) && f.includes("-review-") === review)
    .map((f) => ({ ...(JSON.parse(readFileSync(join(dir, f), "utf8")) as Recorded), attempt: Number(f.split("-")[1]) }))
    .sort((a, b) => a.attempt - b.attempt);
}

function plan(tasks: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return { project: "p", root: "./ws", orders: [{ id: "O1", title: "Login feature", tasks, ...extra }] };
}

async function runOrder(ctx: Ctx, args: string[] = []): Promise<{ code: number; summary: any }> {
  const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O1", "--wait", ...args]);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  return { code: r.code, summary: JSON.parse(r.stdout) };
}

async function statusOf(ctx: Ctx, task: string): Promise<any> {
  const s = await readJson(ctx, ["status", "p"]);
  return s.tasks.find((t: any) => t.task === task);
}

async function runRowsOf(ctx: Ctx, task: string): Promise<Array<Record<string, any>>> {
  const s = await store(ctx.db);
  try {
    return s.conn
      .prepare("SELECT * FROM runs WHERE project_id = 'p' AND task_id = ? ORDER BY attempt")
      .all(task) as Array<Record<string, any>>;
  } finally {
    s.close();
  }
}

async function eventsOf(ctx: Ctx, task: string): Promise<Array<{ kind: string; attempt: number; data: any }>> {
  const s = await store(ctx.db);
  try {
    return (
      s.conn.prepare("SELECT kind, attempt, data FROM events WHERE project_id = 'p' AND task_id = ? ORDER BY id").all(task) as Array<{
        kind: string;
        attempt: number;
        data: string;
      }>
    ).map((e) => ({ ...e, data: JSON.parse(e.data) }));
  } finally {
    s.close();
  }
}

describe("agent workers: outcomes", () => {
  it("a successful run: DONE, cost/turns/session per attempt, progress from TodoWrite, its result kept; wait and status report them", async () => {
    const ctx = agentSetup();
    await importPlan(ctx, plan([{ id: "A", title: "Schema", prompt: "Write it [fake:result:schema in src/db.ts]", review: false }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ done: true, cost_usd: 0.0123, num_turns: 5, failed: [] });
    const t = await statusOf(ctx, "A");
    expect(t).toMatchObject({ status: "DONE", cost_usd: 0.0123, num_turns: 5, failure_kind: null, progress: { done: 2, total: 2 } });
    const [run] = await runRowsOf(ctx, "A");
    expect(run).toMatchObject({ outcome: "succeeded", num_turns: 5, cost_usd: 0.0123, duration_ms: 1234 });
    expect(run!.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(run!.usage)).toMatchObject({ input_tokens: 1200, output_tokens: 345 });
    const s = await readJson(ctx, ["status", "p"]);
    expect(s.orders).toEqual([{ project: "p", order: "O1", paused: false, tasks: 1, cost_usd: 0.0123, num_turns: 5 }]);
    const db = await store(ctx.db);
    expect((db.conn.prepare("SELECT result FROM tasks WHERE id = 'A'").get() as { result: string }).result).toBe("schema in src/db.ts");
    db.close();
    // `logs` shows the stream as one line per event; --raw as it is.
    const logs = await aipm(ctx, ["logs", "A"]);
    expect(logs.stdout).toContain("> TodoWrite 2/2 done\nschema in src/db.ts\nresult (success, 5 turns, $0.0123): schema in src/db.ts");
    expect(logs.stdout).not.toContain('{"type"');
    expect((await aipm(ctx, ["logs", "A", "--raw"])).stdout).toContain('{"type":"result"');
  });

  it("the model is passed through: the task's own, else --model, else none (the agent's default)", async () => {
    const ctx = agentSetup();
    await importPlan(
      ctx,
      plan([
        { id: "OWN", prompt: "x", model: "opus", review: false },
        { id: "FLAG", prompt: "x", review: false },
      ]),
    );
    expect((await runOrder(ctx, ["--model", "sonnet"])).code).toBe(0);
    const own = runsOf(ctx, "OWN")[0]!.argv;
    const flag = runsOf(ctx, "FLAG")[0]!.argv;
    expect(own.slice(0, 6)).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--model", "opus"]);
    // The task's permissions: refuse what is not allowed, from the attempt's own settings file only.
    expect(own.slice(6, 8)).toEqual(["--permission-mode", "dontAsk"]);
    expect(own[8]).toBe("--settings");
    expect(own[9]).toMatch(/logs\/p\/OWN\/1\.settings\.json$/);
    expect(own.slice(10)).toEqual(["--setting-sources", "", "--strict-mcp-config"]);
    expect(flag.slice(4, 6)).toEqual(["--model", "sonnet"]);

    const ctx2 = agentSetup();
    await importPlan(ctx2, plan([{ id: "NONE", prompt: "x", review: false }]));
    expect((await runOrder(ctx2)).code).toBe(0);
    expect(runsOf(ctx2, "NONE")[0]!.argv.slice(0, 5)).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--permission-mode"]);
  });

  it("exit 0 with is_error: true is a failure (agent_error); a crash without a result is `crashed`", async () => {
    const ctx = agentSetup();
    await importPlan(
      ctx,
      plan([
        { id: "ERR", prompt: "[fake:is_error]", review: false, max_attempts: 2 },
        { id: "CRASH", prompt: "[fake:crash]", review: false, max_attempts: 1 },
      ]),
    );
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    const failed = Object.fromEntries(summary.failed.map((f: any) => [f.task, f]));
    expect(failed.ERR).toMatchObject({ failure_kind: "agent_error", attempts: 2 });
    expect(failed.ERR.error).toMatch(/Something failed/);
    expect(failed.CRASH).toMatchObject({ failure_kind: "crashed", attempts: 1 });
    expect(failed.CRASH.error).toMatch(/no result.*fake crash/);
    const errRuns = await runRowsOf(ctx, "ERR");
    expect(errRuns.map((r) => [r.exit_code, r.outcome])).toEqual([
      [0, "agent_error"],
      [0, "agent_error"],
    ]);
    // A failing agent still reports what it cost.
    expect(failed.ERR.cost_usd).toBeCloseTo(0.0246, 6);
  });

  it("a worker that goes silent is killed as stalled", async () => {
    const ctx = agentSetup({ AIPM_STALL_KILL_S: "1", AIPM_STALL_WARN_S: "0.5" });
    await importPlan(ctx, plan([{ id: "HANG", prompt: "[fake:hang]", review: false, max_attempts: 1 }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(summary.failed[0]).toMatchObject({ task: "HANG", failure_kind: "stalled" });
    const kinds = (await eventsOf(ctx, "HANG")).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["task_stall_warning", "task_stall_killed", "task_failed"]));
  });

  it("an agent that gives its result and does not exit is stopped after the grace period; the result stands", async () => {
    const ctx = agentSetup({ AIPM_RESULT_GRACE_S: "0.5", AIPM_STALL_KILL_S: "30" });
    await importPlan(ctx, plan([{ id: "HR", prompt: "[fake:hang_after_result] [fake:result:all done]", review: false, max_attempts: 1 }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ done: true, failed: [] });
    expect(await statusOf(ctx, "HR")).toMatchObject({ status: "DONE", attempt: 1 });
    const kinds = (await eventsOf(ctx, "HR")).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["task_result_grace_kill", "task_done"]));
  });

  it("a worker never sees a parent Claude Code session's variables; it gets its settings file and an API timeout", async () => {
    const ctx = agentSetup({ CLAUDECODE: "1", CLAUDE_CODE_ENTRYPOINT: "cli", CLAUDE_CODE_SSE_PORT: "1234", CLAUDE_CODE_MAX_RETRIES: "2" });
    await importPlan(
      ctx,
      plan([{ id: "ENV", prompt: "x", target_files: ["src/a.ts", "docs/"], allowed_tools: ["Bash(npm test *)"], review: false }], {
        allowed_tools: ["Bash(make lint)"],
      }),
    );
    expect((await runOrder(ctx)).code).toBe(0);
    const [run] = runsOf(ctx, "ENV");
    expect(run!.vars).not.toHaveProperty("CLAUDECODE");
    expect(run!.vars).not.toHaveProperty("CLAUDE_CODE_ENTRYPOINT");
    expect(run!.vars).not.toHaveProperty("CLAUDE_CODE_SSE_PORT");
    expect(run!.vars).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: "2", API_TIMEOUT_MS: "300000" });
    const settings = JSON.parse(readFileSync(run!.vars.AIPM_AGENT_SETTINGS!, "utf8"));
    const root = join(ctx.dir, "ws");
    expect(settings.permissions.defaultMode).toBe("dontAsk");
    expect(settings.permissions.allow).toEqual(
      expect.arrayContaining([
        `Edit(/${root}/src/a.ts)`,
        `Edit(/${root}/docs)`,
        `Edit(/${root}/docs/**)`,
        "Bash(npm test *)",
        "Bash(make lint)",
        "Bash(aipm progress *)",
      ]),
    );
    expect(settings.permissions.allow.filter((r: string) => r.startsWith("Edit("))).toHaveLength(4);
    // The prompt says what it may run and how to report progress.
    expect(run!.prompt).toContain("Bash(make lint), Bash(npm test *)");
    expect(run!.prompt).toContain("aipm progress");
  });

  it("a usage limit with a reset time spends no attempt: the task waits for the reset, says so, then runs", async () => {
    const ctx = agentSetup();
    await importPlan(ctx, plan([{ id: "RL", prompt: "[fake:rate_limit:2@1]", review: false, max_attempts: 1 }]));
    const { code } = await runOrder(ctx);
    expect(code).toBe(0);
    const runs = await runRowsOf(ctx, "RL");
    expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, "rate_limit"],
      [2, "succeeded"],
    ]);
    const limited = (await eventsOf(ctx, "RL")).find((e) => e.kind === "task_rate_limited")!;
    expect(limited).toBeDefined();
    const resetAt = Date.parse(limited.data.retry_at);
    // The fake's reset is a whole second 2 s ahead: the next attempt did not start before it.
    expect(runs[1]!.started_at).toBeGreaterThanOrEqual(resetAt);
    expect(resetAt - runs[0]!.started_at).toBeGreaterThan(900);
    expect(await statusOf(ctx, "RL")).toMatchObject({ status: "DONE", max_attempts: 1, attempt: 2 });
  });
});

describe("agent workers: execute-task", () => {
  it("runs an agent task in the foreground, shows its stream as readable lines, reviews it, reports cost and turns", async () => {
    const ctx = agentSetup();
    await importPlan(ctx, plan([{ id: "E", target_files: ["e.txt"], prompt: "[fake:write:e.txt] [fake-review:reject@1]" }]));
    const r = await aipm(ctx, ["execute-task", "p", "E", "--model", "haiku"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("> Edit e.txt");
    expect(r.stdout).not.toContain('{"type"');
    // Two attempts and two reviews, each reporting $0.0123.
    expect(r.stdout).toMatch(/p\/E: DONE after 2 attempt\(s\), \$0\.0492 in \d+ turns/);
    expect(runsOf(ctx, "E").map((x) => x.argv[x.argv.indexOf("--model") + 1])).toEqual(["haiku", "haiku"]);
    const j = await aipm(ctx, ["--json", "execute-task", "p", "E"]);
    expect(j.code).toBe(2); // DONE already: not QUEUED
    const ctx2 = agentSetup();
    await importPlan(ctx2, plan([{ id: "F", prompt: "[fake:max_turns]", review: false, max_attempts: 1 }]));
    const f = await aipm(ctx2, ["--json", "execute-task", "p", "F"]);
    expect(f.code).toBe(1);
    expect(JSON.parse(f.stdout)).toMatchObject({ status: "FAILED", failure_kind: "max_turns", cost_usd: 0.0123 });
  });
});

describe("agent workers: the prompt", () => {
  it("carries the title, the order's title, the target files and the rule, and the results of finished dependencies", async () => {
    const ctx = agentSetup();
    await importPlan(
      ctx,
      plan([
        { id: "A", title: "Schema", prompt: "Design it [fake:result:The users table is in src/db/schema.ts]", review: false },
        { id: "M", title: "Migrate", command: ["sh", "-c", "echo noise; echo 3 tables migrated"] },
        { id: "B", title: "API", deps: ["A", "M"], target_files: ["src/api/**", "README.md"], prompt: "Implement the login endpoint", review: false },
      ]),
    );
    expect((await runOrder(ctx)).code).toBe(0);
    const [b] = runsOf(ctx, "B");
    expect(b!.prompt).toContain("# Task B: API");
    expect(b!.prompt).toContain("Order O1: Login feature");
    expect(b!.prompt).toContain("Implement the login endpoint");
    expect(b!.prompt).toContain("- src/api/**\n- README.md");
    expect(b!.prompt).toMatch(/Edit only these files/);
    expect(b!.prompt).toContain("- A (Schema): The users table is in src/db/schema.ts");
    // A command's result is the end of its output.
    expect(b!.prompt).toContain("- M (Migrate): noise\n3 tables migrated");
    expect(b!.vars).toMatchObject({ AIPM_PROJECT: "p", AIPM_ORDER: "O1", AIPM_TASK: "B", AIPM_ATTEMPT: "1" });
    expect(JSON.parse(b!.vars.AIPM_TARGET_FILES!)).toEqual(["src/api/**", "README.md"]);
    expect(b!.cwd).toBe(join(ctx.dir, "ws"));
  });
});

describe("agent workers: review", () => {
  it("a rejected review returns the task to QUEUED with the feedback, which the next attempt reads; the second review approves", async () => {
    const ctx = agentSetup();
    mkdirSync(join(ctx.dir, "ws"), { recursive: true });
    await importPlan(ctx, plan([{ id: "R", target_files: ["src/list.ts"], prompt: "Sort the list [fake:write:src/list.ts] [fake-review:reject@1]" }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(0);
    expect(summary.done).toBe(true);
    const runs = await runRowsOf(ctx, "R");
    expect(runs.map((r) => [r.attempt, r.outcome, r.review])).toEqual([
      [1, "review_rejected", 1],
      [2, "succeeded", 1],
    ]);
    // What the reviewer cost is counted with the task.
    expect(runs.map((r) => r.review_cost_usd)).toEqual([0.0123, 0.0123]);
    expect(summary.cost_usd).toBeCloseTo(4 * 0.0123, 6);
    const [first, second] = runsOf(ctx, "R");
    expect(first!.prompt).not.toContain("Review of your previous attempt");
    expect(second!.prompt).toContain("Review of your previous attempt");
    expect(second!.prompt).toContain("misses the edge case of an empty list");
    // The reviewer saw the task and the change to its target file.
    const reviews = runsOf(ctx, "R", true);
    expect(reviews).toHaveLength(2);
    expect(reviews[0]!.prompt).toContain("Sort the list");
    expect(reviews[0]!.prompt).toContain("src/list.ts");
    expect(reviews[0]!.prompt).toContain("edited by R attempt 1");
    expect(reviews[0]!.vars.AIPM_REVIEW).toBe("1");
    const kinds = (await eventsOf(ctx, "R")).map((e) => e.kind);
    expect(kinds).toEqual(["task_started", "task_review", "review_started", "review_rejected", "task_started", "task_review", "review_started", "task_done"]);
    // One log per review run.
    expect(existsSync(join(ctx.dbDir, "logs", "p", "R", "1.review-1.log"))).toBe(true);
    expect(existsSync(join(ctx.dbDir, "logs", "p", "R", "2.review-1.log"))).toBe(true);
  });

  it("--no-review and review: false skip the review; command tasks are reviewed only when they ask", async () => {
    const ctx = agentSetup();
    await importPlan(
      ctx,
      plan([
        { id: "NR", prompt: "x [fake-review:reject]" },
        { id: "OFF", prompt: "x [fake-review:reject]", review: false },
        { id: "CMD", command: ["true"] },
      ]),
    );
    expect((await runOrder(ctx, ["--no-review"])).code).toBe(0);
    for (const t of ["NR", "OFF", "CMD"]) expect(runsOf(ctx, t, true), `${t} was reviewed`).toEqual([]);
    const ctx2 = agentSetup();
    await importPlan(ctx2, plan([{ id: "OFF", prompt: "x [fake-review:reject]", review: false }, { id: "CMD", command: ["true"] }]));
    expect((await runOrder(ctx2)).code).toBe(0);
    expect(runsOf(ctx2, "OFF", true)).toEqual([]);
  });

  it("$AIPM_REVIEW_CMD: a command task that asks for review; a non-zero exit rejects with its output as feedback", async () => {
    const review = JSON.stringify(["sh", "-c", 'if [ "$AIPM_ATTEMPT" -ge 2 ]; then echo fine; else echo "please handle the empty case"; exit 1; fi']);
    const ctx = agentSetup({ AIPM_REVIEW_CMD: review });
    await importPlan(ctx, plan([{ id: "C", command: ["true"], review: true }]));
    expect((await runOrder(ctx)).code).toBe(0);
    const runs = await runRowsOf(ctx, "C");
    expect(runs.map((r) => r.outcome)).toEqual(["review_rejected", "succeeded"]);
    const rejected = (await eventsOf(ctx, "C")).find((e) => e.kind === "review_rejected")!;
    expect(rejected.data.feedback).toBe("please handle the empty case");
  });

  it("a review rejected on the last attempt fails the task as review_rejected, with the feedback in wait's summary", async () => {
    const ctx = agentSetup();
    await importPlan(ctx, plan([{ id: "R", prompt: "x [fake-review:reject]", max_attempts: 1 }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(summary.failed[0]).toMatchObject({ task: "R", failure_kind: "review_rejected" });
    expect(summary.failed[0].review_feedback).toMatch(/empty list/);
  });

  it("a review with no verdict (exit 75) runs again, each run with its own log, then fails the task as review_error", async () => {
    const ctx = agentSetup({ AIPM_REVIEW_CMD: JSON.stringify(["sh", "-c", "echo cannot judge now; exit 75"]) });
    await importPlan(ctx, plan([{ id: "R", command: ["true"], review: true }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(summary.failed[0]).toMatchObject({ task: "R", failure_kind: "review_error", attempts: 1 });
    const [run] = await runRowsOf(ctx, "R");
    expect(run).toMatchObject({ review_runs: 3, outcome: "review_error" });
    for (const n of [1, 2, 3]) expect(existsSync(join(ctx.dbDir, "logs", "p", "R", `1.review-${n}.log`))).toBe(true);
    expect((await eventsOf(ctx, "R")).filter((e) => e.kind === "review_no_verdict")).toHaveLength(2);
  });

  it("a reviewer that hits a usage limit waits for the reset; that run does not count", async () => {
    const ctx = agentSetup();
    await importPlan(ctx, plan([{ id: "R", prompt: "x [fake-review:rate_limit_once:2]" }]));
    const { code } = await runOrder(ctx);
    expect(code).toBe(0);
    const [run] = await runRowsOf(ctx, "R");
    expect(run).toMatchObject({ outcome: "succeeded", review_runs: 1 });
    const ev = (await eventsOf(ctx, "R")).find((e) => e.kind === "review_no_verdict")!;
    expect(ev.data.why).toBe("the reviewer hit a usage limit");
    const reviews = runsOf(ctx, "R", true);
    expect(reviews).toHaveLength(2);
    expect(Date.parse(ev.data.retry_at)).toBeGreaterThan(run!.started_at + 900);
  });

  it("a review command that cannot start fails the task at once (review_error)", async () => {
    const ctx = agentSetup({ AIPM_REVIEW_CMD: JSON.stringify(["no-such-reviewer-xyz"]) });
    await importPlan(ctx, plan([{ id: "R", prompt: "x" }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(summary.failed[0]).toMatchObject({ task: "R", failure_kind: "review_error", attempts: 1 });
    expect(summary.failed[0].error).toMatch(/review command could not start: spawn ENOENT: no-such-reviewer-xyz/);
  });

  it("kill during REVIEW stops the review process and cancels the task, releasing its locks", async () => {
    const ctx = agentSetup({ AIPM_REVIEW_CMD: JSON.stringify(["sh", "-c", "echo reviewing; sleep 30"]) });
    await importPlan(ctx, plan([{ id: "K", command: ["true"], review: true, target_files: ["k.txt"] }]));
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
    const pid = await waitFor(async () => {
      const t = await statusOf(ctx, "K");
      return t.status === "REVIEW" && t.pid ? (t.pid as number) : null;
    });
    expect((await readJson(ctx, ["locks"])).locks.map((l: any) => l.file)).toEqual(["k.txt"]);
    const k = await aipm(ctx, ["--json", "kill", "K"]);
    expect(k.code).toBe(0);
    expect(JSON.parse(k.stdout)).toMatchObject({ was: "REVIEW", status: "CANCELLED", pid });
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, { what: "the review process to be gone" });
    expect((await readJson(ctx, ["locks"])).locks).toEqual([]);
    const [run] = await runRowsOf(ctx, "K");
    expect(run).toMatchObject({ outcome: "killed", kill_request: "cancel" });
  });

  it("a review survives the death of its supervisor: a later wait finds its verdict", async () => {
    const slow = JSON.stringify(["sh", "-c", "sleep 1; echo ok"]);
    const ctx = agentSetup({ AIPM_REVIEW_CMD: slow });
    await importPlan(ctx, plan([{ id: "C", command: ["true"], review: true }]));
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O1"]);
    expect(r.code).toBe(0);
    // Kill every aipm process (the detached supervisor) while the review runs.
    const reviewing = await waitFor(async () => {
      const s = await store(ctx.db);
      try {
        return s.conn.prepare("SELECT review_pid FROM runs WHERE task_id = 'C' AND review_pid IS NOT NULL").pluck().get() as number | undefined;
      } finally {
        s.close();
      }
    });
    const supervisors = supervisorProcesses(ctx.tag);
    expect(supervisors.length).toBeGreaterThan(0);
    for (const pid of supervisors) process.kill(pid, "SIGKILL");
    expect(reviewing).toBeGreaterThan(0);
    const w = await aipm(ctx, ["--json", "wait", "p", "O1", "--timeout", "20"]);
    expect(JSON.parse(w.stdout)).toMatchObject({ done: true });
    const runs = await runRowsOf(ctx, "C");
    expect(runs.map((x) => [x.outcome, x.review_runs])).toEqual([["succeeded", 1]]);
  });
});

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-C", dir, ...args], { stdio: "ignore" });
}

function gitProject(ctx: Ctx): string {
  const ws = join(ctx.dir, "ws");
  mkdirSync(join(ws, "src"), { recursive: true });
  writeFileSync(join(ws, "src", "a.txt"), "a\n");
  writeFileSync(join(ws, "notes.txt"), "dirty before the attempt\n");
  git(ws, "init", "-q");
  git(ws, "add", "src");
  git(ws, "commit", "-qm", "init");
  return ws;
}

describe("agent workers: scope check", () => {
  it("files changed outside target_files are reported (event, status, wait) and the task still succeeds", async () => {
    const ctx = agentSetup();
    gitProject(ctx);
    await importPlan(
      ctx,
      plan([{ id: "S", target_files: ["src/"], prompt: "[fake:write:src/a.txt] [fake:write:other.txt]", review: false }]),
    );
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(0);
    // notes.txt was dirty before the attempt and untouched: not the task's doing.
    expect(summary.out_of_scope).toEqual([{ task: "S", files: ["other.txt"] }]);
    expect(await statusOf(ctx, "S")).toMatchObject({ status: "DONE", out_of_scope: ["other.txt"] });
    const ev = (await eventsOf(ctx, "S")).find((e) => e.kind === "scope_violation")!;
    expect(ev.data.files).toEqual(["other.txt"]);
  });

  it("AIPM_SCOPE=fail makes it a failed attempt (scope)", async () => {
    const ctx = agentSetup({ AIPM_SCOPE: "fail" });
    gitProject(ctx);
    await importPlan(ctx, plan([{ id: "S", target_files: ["src/a.txt"], prompt: "[fake:write:src/a.txt] [fake:write:src/b.txt]", review: false, max_attempts: 1 }]));
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(summary.failed[0]).toMatchObject({ task: "S", failure_kind: "scope" });
    expect(summary.failed[0].error).toMatch(/outside its target_files: src\/b\.txt/);
  });

  it("edits by another task running at the same time are not counted against this one", async () => {
    const ctx = agentSetup({ AIPM_SCOPE: "fail" });
    gitProject(ctx);
    await importPlan(
      ctx,
      plan([
        { id: "X", target_files: ["x/"], prompt: "[fake:sleep:0.3] [fake:write:x/1.txt]", review: false, max_attempts: 1 },
        { id: "Y", target_files: ["y/"], prompt: "[fake:write:y/1.txt] [fake:sleep:0.6]", review: false, max_attempts: 1 },
      ]),
    );
    const { code, summary } = await runOrder(ctx);
    expect(summary.failed).toEqual([]);
    expect(code).toBe(0);
  });
});
