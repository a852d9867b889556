/**
 * Agent workers without processes: the permission rules derived from a task,
 * the classification of the real CLI's result lines (shapes measured with
 * Claude Code 2.1.332, tests/real-claude/FINDINGS.md), and the transitions
 * that give transient attempts back, hold a project on a usage limit and stop
 * an order at its budget.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { editRules, reviewerRules, workerRules } from "../src/agent/permissions.js";
import { AgentStream } from "../src/agent/stream-json.js";
import { agentOutcome } from "../src/agent/agent-outcome.js";
import { claim, finish, type AttemptEnd, type ClaimInput } from "../src/store/transitions.js";
import { importPlan } from "../src/plan/import-plan.js";
import { detect } from "../src/detect/select.js";
import { loadLocks, loadProjectTasks } from "../src/store/read-project.js";
import { agentGate } from "../src/store/agent-gates.js";
import { store, tempDir } from "./helpers.js";

describe("permission rules", () => {
  it("a file, a directory and a glob become absolute Edit rules; braces are expanded", () => {
    expect(editRules("/r", "src/a.ts")).toEqual(["Edit(//r/src/a.ts)", "Edit(//r/src/a.ts/**)"]);
    expect(editRules("/r", "src/**/*.ts")).toEqual(["Edit(//r/src/**/*.ts)"]);
    expect(editRules("/r", "src/{a,b}.ts")).toEqual(["Edit(//r/src/a.ts)", "Edit(//r/src/a.ts/**)", "Edit(//r/src/b.ts)", "Edit(//r/src/b.ts/**)"]);
    expect(editRules("/r", ".")).toEqual(["Edit(//r)", "Edit(//r/**)"]);
    // Gitignore's special characters stand for themselves in the root and in literal entries.
    expect(editRules("/w/app[12]", "notes/#1!.md")).toEqual(["Edit(//w/app\\[12\\]/notes/\\#1\\!.md)", "Edit(//w/app\\[12\\]/notes/\\#1\\!.md/**)"]);
    // A glob entry stays a pattern (`[id]` is a character class for the locks too); its root is escaped.
    expect(editRules("/w/app[12]", "src/*.ts")).toEqual(["Edit(//w/app\\[12\\]/src/*.ts)"]);
  });

  it("a worker reads, edits its files, reports progress and runs the plan's rules; the reviewer only reads", () => {
    const w = workerRules({ root: "/r", targetFiles: ["a.ts"], allowedTools: ["Bash(npm test *)"] });
    expect(w.allow).toEqual(expect.arrayContaining(["Bash(aipm progress *)", "Edit(//r/a.ts)", "Bash(npm test *)"]));
    // Reading inside the project needs no rule; a bare Read would open the whole machine.
    expect(w.allow.some((r) => r === "Read" || r === "Bash" || r === "Edit" || r === "Write")).toBe(false);
    const readOnly = workerRules({ root: "/r", targetFiles: [], allowedTools: [] });
    expect(readOnly.allow.filter((r) => r.startsWith("Edit"))).toEqual([]);
    expect(reviewerRules().allow.some((r) => r.startsWith("Edit") || r.startsWith("Bash"))).toBe(false);
  });
});

const NOW = Date.parse("2026-12-01T12:00:00Z");
const exit1: AttemptEnd = { kind: "failed", exitCode: 1, signal: null, error: "exit code 1", failureKind: "exit_code" };
const ok: AttemptEnd = { kind: "success", exitCode: 0 };
const init = { type: "system", subtype: "init", session_id: "s", model: "claude-opus-5-5", tools: ["Bash", "Edit", "Read", "Write"] };

/** A real API-error ending: a synthetic assistant line with `error`, then a result whose keys start with duration_api_ms. */
function apiError(error: string, status: number | null, type: string | null, text: string, extra: Record<string, unknown> = {}): string[] {
  const assistant = { type: "assistant", message: { model: "<synthetic>", content: [{ type: "text", text }] }, error, is_api_error_message: true, api_error_status: status, ...(type ? { api_error_type: type } : {}), ...extra };
  const result = { duration_api_ms: 0, stop_reason: "stop_sequence", session_id: "s", total_cost_usd: 0, permission_denials: [], terminal_reason: "api_error", is_error: true, num_turns: 1, subtype: "success", api_error_status: status, ...(type ? { api_error_type: type } : {}), result: text, type: "result", ...extra };
  return [JSON.stringify(assistant), JSON.stringify(result)];
}

function classify(base: AttemptEnd, lines: Array<string | object>) {
  const s = new AgentStream();
  for (const l of [JSON.stringify(init), ...lines]) s.push(typeof l === "string" ? l : JSON.stringify(l));
  return agentOutcome({ base, agent: s.summary, now: NOW, rateLimitWaitS: 300 });
}

describe("outcomes from the CLI's structured fields", () => {
  it("every API error of the real CLI: transient ones are free, auth is final", () => {
    expect(classify(exit1, apiError("rate_limit", 429, "rate_limit_error", "API Error: Request rejected (429) · Rate limited."))).toMatchObject({ failureKind: "rate_limit", retry: "free" });
    expect(classify(exit1, apiError("server_error", 529, "overloaded_error", "API Error: 529 Overloaded."))).toMatchObject({ failureKind: "api_error", retry: "free" });
    expect(classify(exit1, apiError("server_error", 500, "api_error", "API Error: 500 Internal server error."))).toMatchObject({ failureKind: "api_error", retry: "free" });
    expect(classify(exit1, apiError("server_error", null, null, "Request timed out."))).toMatchObject({ failureKind: "api_error", retry: "free" });
    expect(classify(exit1, apiError("server_error", null, null, "Connection error.", { api_error: "connection_failed" }))).toMatchObject({ failureKind: "api_error" });
    expect(classify(exit1, apiError("authentication_failed", 401, "authentication_error", "Invalid API key"))).toMatchObject({ failureKind: "auth", retry: "never" });
    expect(classify(exit1, apiError("billing_error", 400, "invalid_request_error", "Credit balance is too low"))).toMatchObject({ failureKind: "auth", retry: "never" });
    // A request the API refuses for its content is not transient: an ordinary, counted failure.
    expect(classify(exit1, apiError("invalid_request", 400, "invalid_request_error", "prompt is too long"))).toMatchObject({ failureKind: "agent_error" });
    expect(classify(exit1, apiError("invalid_request", 400, "invalid_request_error", "prompt is too long"))).not.toHaveProperty("retry");
    // ... even when its words look like a transient error's.
    expect(classify(exit1, apiError("invalid_request", 400, "invalid_request_error", "API Error: 400 bad tool schema"))).toMatchObject({ failureKind: "agent_error" });
    // A retry the CLI recovered from says nothing of a later, unrelated error.
    const retry = { type: "system", subtype: "api_retry", attempt: 1, max_retries: 10, error_status: 529, error: "overloaded" };
    expect(classify(exit1, [retry, { type: "result", subtype: "error_during_execution", is_error: true, api_error_status: null, errors: ["boom"] }])).toMatchObject({ failureKind: "agent_error" });
  });

  it("a usage limit (OAuth login): reset from the event, the project held", () => {
    const resetsAt = Math.floor(NOW / 1000) + 7200;
    const info = { status: "rejected", resetsAt, rateLimitType: "five_hour", isUsingOverage: false };
    const lines = [
      { type: "rate_limit_event", rate_limit_info: info, session_id: "s" },
      ...apiError("rate_limit", 429, "rate_limit_error", "You've hit your 5-hour limit · resets 12:08am (UTC)", { api_error: "usage_limit_reached", api_error_params: { rate_limit_info: info } }),
    ];
    expect(classify(exit1, lines)).toMatchObject({ failureKind: "rate_limit", retry: "free", retryAt: resetsAt * 1000, holdProject: true });
  });

  it("a success that lists refusals is permission_denied, naming the tool and the path; max turns and budget are final", () => {
    const denied = { type: "result", subtype: "success", is_error: false, terminal_reason: "completed", result: "Could not write.", permission_denials: [{ tool_name: "Write", tool_use_id: "t1", tool_input: { file_path: "/r/b.ts", content: "x" } }] };
    const r = classify(ok, [denied]);
    expect(r).toMatchObject({ failureKind: "permission_denied", retry: "never" });
    expect((r as { error: string }).error).toContain("Write /r/b.ts");
    expect(classify(exit1, [{ type: "result", subtype: "error_max_turns", is_error: true, terminal_reason: "max_turns", errors: ["Reached maximum number of turns (2)"], num_turns: 3 }])).toMatchObject({ failureKind: "max_turns", retry: "never" });
    expect(classify(exit1, [{ type: "result", subtype: "error_max_budget_usd", is_error: true, terminal_reason: "budget_exhausted", errors: ["Reached maximum budget ($0.01)"] }])).toMatchObject({ failureKind: "budget", retry: "never" });
    const lost = classify(exit1, [{ type: "result", subtype: "error_during_execution", is_error: true, num_turns: 0, errors: ["No conversation found with session ID: abc"] }]);
    expect(lost).toMatchObject({ failureKind: "agent_error", retry: "free" });
  });

  it("a refusal event names the file from the call it refused; the file tools' paths are the attempt's edits", () => {
    const s = new AgentStream();
    s.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Write", input: { file_path: "/r/b.ts" } }] } }));
    s.push(JSON.stringify({ type: "system", subtype: "permission_denied", tool_name: "Write", tool_use_id: "t1", decision_reason_type: "mode" }));
    expect(s.lines).toEqual(["permission denied: Write /r/b.ts"]);
    s.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", is_error: true, content: "denied" }] } }));
    s.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "t2", name: "Edit", input: { file_path: "/r/a.ts" } }] } }));
    s.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t2", content: "ok" }] } }));
    s.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "t3", name: "Bash", input: { command: "aipm progress 1/2 x" } }] } }));
    s.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t3", content: "" }] } }));
    expect(s.summary.ranCommands).toBe(false);
    s.push(JSON.stringify({ type: "system", subtype: "api_retry", attempt: 3, max_retries: 10, retry_delay_ms: 2000, error_status: 529, error: "overloaded" }));
    expect(s.lastActivity).toBe("API retry 3/10 (529)");
    s.push(JSON.stringify({ duration_api_ms: 1, type: "result", subtype: "success", is_error: false, permission_denials: [{ tool_name: "Write", tool_use_id: "t1", tool_input: { file_path: "/r/b.ts" } }], modelUsage: { a: { costUSD: 0.25 }, b: { costUSD: 0.5 } }, total_cost_usd: 9 }));
    expect(s.summary.denials).toEqual([{ tool: "Write", target: "/r/b.ts" }]);
    // The refused Write wrote nothing: only the Edit that succeeded is this attempt's.
    expect(s.summary.editedFiles).toEqual(["/r/a.ts"]);
    expect(s.summary.result?.total_cost_usd).toBe(0.75);
    // A resumed run's totals include the runs before it: its own usage comes first.
    const resumed = new AgentStream();
    resumed.push(JSON.stringify({ type: "result", subtype: "success", total_cost_usd: 0.0318, modelUsage: { m: { costUSD: 0.0318 } }, model_usage_since_last_result: { m: { costUSD: 0.0159 } } }));
    expect(resumed.summary.result?.total_cost_usd).toBe(0.0159);
  });
});

let clock = 1_000_000;
async function agentProject(budget?: number) {
  const dir = tempDir();
  const s = await store(join(dir, "aipm.db"));
  (s as { now: () => number }).now = () => clock;
  importPlan(
    s,
    {
      project: "p",
      orders: [
        {
          id: "O",
          ...(budget !== undefined ? { budget_usd: budget } : {}),
          tasks: [
            { id: "A", prompt: "a", max_attempts: 1 },
            { id: "B", prompt: "b" },
            { id: "C", command: ["true"] },
          ],
        },
      ],
    },
    dir,
  );
  return s;
}
const claimOf = (task: string): ClaimInput => ({ project: "p", task, effectiveWorkers: 5, logPath: (n) => `/tmp/${task}/${n}.log`, ownerPid: process.pid, ownerStart: null });
const transient: AttemptEnd = { kind: "failed", exitCode: 1, signal: null, error: "API error (529)", failureKind: "api_error", retry: "free" };

describe("transient trouble, usage-limit holds and budgets in the store", () => {
  it("transient errors give the attempt back with a capped doubling backoff, then fail as api_error past the ceiling", async () => {
    const s = await agentProject();
    const transientPolicy = { maxS: 100, backoffMaxS: 8 };
    const waits: number[] = [];
    for (let i = 1; i <= 5; i++) {
      expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: i });
      const r = finish(s, { project: "p", task: "A", attempt: i, end: transient, backoffS: 1, transient: transientPolicy });
      expect(r).toMatchObject({ ok: true, status: "QUEUED" });
      waits.push((r as { retryAt: number }).retryAt - clock);
      clock = (r as { retryAt: number }).retryAt;
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    clock += 100_000;
    claim(s, claimOf("A"));
    expect(finish(s, { project: "p", task: "A", attempt: 6, end: transient, backoffS: 1, transient: transientPolicy })).toMatchObject({ status: "FAILED" });
    expect(s.conn.prepare("SELECT failure_kind, error FROM tasks WHERE id = 'A'").get()).toMatchObject({ failure_kind: "api_error", error: expect.stringContaining("giving up") });
  });

  it("a usage limit holds the project's other agent tasks until the reset; command tasks are not held", async () => {
    const s = await agentProject();
    claim(s, claimOf("A"));
    const until = clock + 60_000;
    const limited: AttemptEnd = { ...transient, failureKind: "rate_limit", retryAt: until, holdProject: true };
    finish(s, { project: "p", task: "A", attempt: 1, end: limited, backoffS: 1 });
    expect(claim(s, claimOf("B"))).toEqual({ ok: false, reason: "rate_limit", retry_at: until });
    const d = detect({ tasks: loadProjectTasks(s, "p"), orderId: "O", paused: false, locks: loadLocks(s, "p"), freeSlots: 5, now: clock, agentGate: agentGate(s, "p", "O") });
    expect(d.launchable.map((t) => t.id)).toEqual(["C"]);
    expect(d.skipped).toEqual(expect.arrayContaining([{ task: "B", reason: "rate_limit", retry_at: new Date(until).toISOString() }]));
    expect(s.conn.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'project_rate_limited'").get()).toEqual({ n: 1 });
    clock = until;
    expect(claim(s, claimOf("B"))).toMatchObject({ ok: true });
  });

  it("an order whose spent cost reached its budget launches no new agent task; one event says so", async () => {
    const s = await agentProject(0.5);
    claim(s, claimOf("A"));
    finish(s, { project: "p", task: "A", attempt: 1, end: { kind: "success", exitCode: 0 }, backoffS: 1, report: { costUsd: 0.6, sessionId: "x" } });
    expect(claim(s, claimOf("B"))).toMatchObject({ ok: false, reason: "budget", budget_usd: 0.5 });
    const d = detect({ tasks: loadProjectTasks(s, "p"), orderId: "O", paused: false, locks: [], freeSlots: 5, now: clock, agentGate: agentGate(s, "p", "O") });
    expect(d.skipped).toEqual([{ task: "B", reason: "budget", budget_usd: 0.5, spent_usd: 0.6 }]);
    expect(d.launchable.map((t) => t.id)).toEqual(["C"]);
    expect(s.conn.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'order_budget_reached'").get()).toEqual({ n: 1 });
  });
});

describe("plan keys for agents", () => {
  it("allowed_tools must be permission rules, max_turns a positive integer, budgets positive: all or nothing, with places", async () => {
    const dir = tempDir();
    const s = await store(join(dir, "aipm.db"));
    const bad = {
      project: "p",
      allowed_tools: ["npm test", "Edit(**)"],
      orders: [{ id: "O", budget_usd: -1, tasks: [{ id: "A", prompt: "a", allowed_tools: ["Bash(npm test *)", 7], max_turns: 1.5, max_budget_usd: 0 }] }],
    };
    let err: { details?: readonly string[] } = {};
    try {
      importPlan(s, bad, dir);
    } catch (e) {
      err = e as { details: readonly string[] };
    }
    expect(err.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^allowed_tools\[0\]: not a permission rule "npm test"/),
        expect.stringMatching(/^allowed_tools\[1\]: "Edit\(\*\*\)": files a task may edit are its target_files/),
        expect.stringMatching(/^orders\[0\]\.budget_usd: expected a positive number/),
        expect.stringMatching(/^orders\[0\]\.tasks\[0\]\.allowed_tools\[1\]: expected a string/),
        expect.stringMatching(/^orders\[0\]\.tasks\[0\]\.max_turns: expected a positive integer/),
        expect.stringMatching(/^orders\[0\]\.tasks\[0\]\.max_budget_usd: expected a positive number/),
      ]),
    );
    expect(s.conn.prepare("SELECT COUNT(*) AS n FROM tasks").get()).toEqual({ n: 0 });
    importPlan(s, { project: "p", allowed_tools: ["Bash(npm test *)", "WebFetch"], orders: [{ id: "O", budget_usd: 5, tasks: [{ id: "A", prompt: "a", max_turns: 9 }] }] }, dir);
    expect(s.conn.prepare("SELECT p.allowed_tools, o.budget_usd, t.max_turns FROM tasks t JOIN projects p ON p.id = t.project_id JOIN orders o ON o.id = t.order_id").get()).toEqual({
      allowed_tools: '["Bash(npm test *)","WebFetch"]',
      budget_usd: 5,
      max_turns: 9,
    });
  });
});
