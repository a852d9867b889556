/**
 * Reading an agent's stream and classifying how its attempt ended, on
 * sample outputs (the shapes Claude Code prints), without processes.
 */
import { describe, expect, it } from "vitest";
import { AgentStream, describeToolUse } from "../src/agent/stream-json.js";
import { agentOutcome, parseResetTime } from "../src/agent/agent-outcome.js";
import { parseVerdict } from "../src/agent/verdict.js";
import type { AttemptEnd } from "../src/store/transitions.js";

const NOW = Date.parse("2026-11-23T12:00:00Z");
const ok: AttemptEnd = { kind: "success", exitCode: 0 };
const exit1: AttemptEnd = { kind: "failed", exitCode: 1, signal: null, error: "exit code 1", failureKind: "exit_code" };

function stream(...lines: Array<string | Record<string, unknown>>): AgentStream {
  const s = new AgentStream();
  for (const l of lines) s.push(typeof l === "string" ? l : JSON.stringify(l));
  return s;
}

function result(fields: Record<string, unknown>) {
  return { type: "result", subtype: "success", is_error: false, num_turns: 4, total_cost_usd: 0.5, session_id: "s1", ...fields };
}

function outcome(base: AttemptEnd, ...lines: Array<string | Record<string, unknown>>) {
  return agentOutcome({ base, agent: stream(...lines).summary, now: NOW, rateLimitWaitS: 300 });
}

describe("AgentStream", () => {
  it("follows the session, the last tool call, TodoWrite progress and the result; keeps text lines", () => {
    const s = new AgentStream();
    s.push(JSON.stringify({ type: "system", subtype: "init", session_id: "abc", model: "claude-sonnet" }));
    expect(s.summary).toMatchObject({ streaming: true, sessionId: "abc", model: "claude-sonnet" });
    const todo = (done: number) => ({
      type: "assistant",
      message: { content: [{ type: "tool_use", name: "TodoWrite", input: { todos: [0, 1, 2].map((i) => ({ content: `t${i}`, status: i < done ? "completed" : "pending" })) } }] },
    });
    expect(s.push(JSON.stringify(todo(1)))).toBe(true);
    expect(s.progress).toEqual({ done: 1, total: 3 });
    expect(s.push(JSON.stringify(todo(1)))).toBe(false);
    s.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", name: "Edit", input: { file_path: "src/a.ts" } }] } }));
    expect(s.lastActivity).toBe("Edit src/a.ts");
    s.push("Error: something on stderr");
    s.push("{not json");
    expect(s.summary.textTail).toEqual(["Error: something on stderr", "{not json"]);
    s.push(JSON.stringify(result({ result: "All done" })));
    expect(s.summary.result).toMatchObject({ is_error: false, num_turns: 4, total_cost_usd: 0.5, result: "All done" });
    expect(s.lastActivity).toBe("result (success, 4 turns, $0.5000): All done");
    expect(describeToolUse("Bash", { command: "npm test" })).toBe("Bash npm test");
  });
});

describe("agentOutcome", () => {
  it("exit 0 and a successful result: success; exit 0 with is_error: a failure", () => {
    expect(outcome(ok, result({}))).toEqual(ok);
    expect(outcome(ok, result({ is_error: true, subtype: "error_during_execution", result: "boom" }))).toMatchObject({
      kind: "failed",
      failureKind: "agent_error",
      exitCode: 0,
    });
  });

  it("a plain agent command (no stream-json): its exit code decides", () => {
    expect(outcome(ok, "just text")).toEqual(ok);
    expect(outcome(exit1, "just text")).toMatchObject({ failureKind: "crashed" });
  });

  it("classifies max turns, budget, API errors and permission denials", () => {
    expect(outcome(exit1, result({ is_error: true, subtype: "error_max_turns" }))).toMatchObject({ failureKind: "max_turns" });
    expect(outcome(exit1, result({ is_error: true, subtype: "error_max_budget_usd" }))).toMatchObject({ failureKind: "budget" });
    expect(outcome(exit1, result({ is_error: true, result: "API Error: 529 Overloaded" }))).toMatchObject({ failureKind: "api_error" });
    expect(outcome(exit1, "API Error: 500 Internal server error")).toMatchObject({ failureKind: "api_error" });
    expect(
      outcome(exit1, result({ is_error: true, result: "could not run it", permission_denials: [{ tool_name: "Bash" }] })),
    ).toMatchObject({ failureKind: "permission_denied", error: expect.stringContaining("Bash") });
  });

  it("a non-zero exit without a result is a crash; stream-json with exit 0 but no result too", () => {
    expect(outcome(exit1, { type: "system", subtype: "init" }, "TypeError: x")).toMatchObject({
      failureKind: "crashed",
      error: expect.stringContaining("TypeError: x"),
    });
    expect(outcome(ok, { type: "system", subtype: "init" })).toMatchObject({ failureKind: "crashed" });
  });

  it("a usage or rate limit is free and waits for the reset it names, else for the rate-limit wait", () => {
    const reset = Math.floor(NOW / 1000) + 3600;
    const byPipe = outcome(exit1, result({ is_error: true, result: `Claude AI usage limit reached|${reset}` }));
    expect(byPipe).toMatchObject({ failureKind: "rate_limit", retry: "free", retryAt: reset * 1000 });
    const byEvent = outcome(
      exit1,
      { type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: reset + 60 } },
      result({ is_error: true, result: "limit" }),
    );
    expect(byEvent).toMatchObject({ failureKind: "rate_limit", retryAt: (reset + 60) * 1000 });
    // An allowed rate_limit_event is only information.
    expect(outcome(ok, { type: "rate_limit_event", rate_limit_info: { status: "allowed", resetsAt: reset } }, result({}))).toEqual(ok);
    const noTime = outcome(exit1, "Error: 429 rate_limit_error: would exceed your account's rate limit");
    // A request rate limit with no time given: no attempt spent, a capped backoff (decided by finish), no hold of the project.
    expect(noTime).toMatchObject({ failureKind: "rate_limit", retry: "free", retryAt: undefined });
    expect(noTime).not.toHaveProperty("holdProject");
    expect(byPipe).toMatchObject({ holdProject: true });
    // A reset in the past: wait the usual time rather than not at all.
    expect(outcome(exit1, result({ is_error: true, result: "Claude AI usage limit reached|1000000000" }))).toMatchObject({
      retryAt: NOW + 300_000,
    });
  });

  it("texts that merely mention a quota, a limit or a status code are not rate limits", () => {
    expect(outcome(exit1, "EDQUOT: disk quota exceeded")).toMatchObject({ failureKind: "crashed" });
    expect(outcome(exit1, "AssertionError: expected status 429 to be 200")).toMatchObject({ failureKind: "crashed" });
    expect(outcome(exit1, result({ is_error: true, result: "the quota module failed at line 500" }))).toMatchObject({ failureKind: "agent_error" });
    expect(outcome(exit1, "Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}")).toMatchObject({ failureKind: "rate_limit" });
  });

  it("aipm's own kills keep their class", () => {
    const stalled: AttemptEnd = { kind: "failed", exitCode: null, signal: "SIGTERM", error: "no output", failureKind: "stalled" };
    expect(outcome(stalled, result({ is_error: true, result: "usage limit reached" }))).toEqual(stalled);
    const killed: AttemptEnd = { kind: "killed", request: "cancel", exitCode: null, signal: "SIGTERM" };
    expect(outcome(killed)).toEqual(killed);
  });
});

describe("parseResetTime", () => {
  it("reads an epoch after `limit reached|`, an ISO time after `resets`, a delay in seconds", () => {
    expect(parseResetTime("Claude AI usage limit reached|1749924000", NOW)).toBe(1749924000_000);
    expect(parseResetTime("limit resets at 2026-11-23T15:00:00Z", NOW)).toBe(Date.parse("2026-11-23T15:00:00Z"));
    expect(parseResetTime("please retry after 30 seconds", NOW)).toBe(NOW + 30_000);
    expect(parseResetTime("You've hit your limit · resets 3pm (Europe/Paris)", NOW)).toBeNull();
  });
});

describe("parseVerdict", () => {
  it("takes the last VERDICT line; the rest is the feedback", () => {
    expect(parseVerdict("Good work.\nVERDICT: APPROVE")).toEqual({ found: true, approved: true, feedback: "Good work." });
    expect(parseVerdict("Fix the loop.\n**Verdict:** reject")).toMatchObject({ found: true, approved: false, feedback: "Fix the loop." });
    expect(parseVerdict("VERDICT: APPROVE\nactually no\nVERDICT: REJECT")).toMatchObject({ approved: false });
    expect(parseVerdict("no verdict here")).toEqual({ found: false, approved: false, feedback: "no verdict here" });
  });
});
