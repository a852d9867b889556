/**
 * How an agent attempt ended, from its exit and its stream: the outcome is
 * the final `result` event together with the exit code.
 *
 * | seen                                        | outcome                             |
 * |---------------------------------------------|-------------------------------------|
 * | exit 0, result not an error                 | success                             |
 * | exit 0, no stream-json at all               | success (a plain agent command)     |
 * | result `is_error` (any exit)                | failure, classified from the result |
 * | exit != 0, no result                        | `crashed` (unless its text says a   |
 * |                                             | usage/rate limit or an API error)   |
 * | stream-json seen, exit 0, no result         | `crashed`                           |
 * | killed for silence / time limit / by hand   | unchanged (`stalled`, `timeout`...) |
 *
 * The texts recognised are Claude Code's own messages (anchored), so that an
 * error that merely mentions a quota or a status code is not taken for one;
 * and a task that keeps hitting "limits" spends its attempts after
 * MAX_FREE_RETRIES of them (src/store/transitions.ts), so a misreading cannot
 * loop forever.
 *
 * Failure classes: `max_turns`, `budget`, `rate_limit`, `api_error`,
 * `permission_denied`, `agent_error` (any other error result), `crashed`.
 * A `rate_limit` does not spend an attempt: the task waits until the reset
 * time the output gives (`...limit reached|<epoch>`, a rejected
 * `rate_limit_event`, an ISO time after "resets"), else for the rate-limit
 * wait, and goes on.
 */
import type { AttemptEnd } from "../store/transitions.js";
import type { AgentSummary } from "./stream-json.js";

export type AgentFailureClass =
  | "max_turns"
  | "budget"
  | "rate_limit"
  | "api_error"
  | "permission_denied"
  | "agent_error"
  | "crashed";

/** Claude Code's own words for a usage or rate limit — not any text that mentions a limit or a quota. */
const RATE_LIMIT =
  /usage limit reached|hit your (?:usage )?limit|rate_limit_error|API Error: 429|429 Too Many Requests|exceed your (?:account's|organization's) rate limit|\b(?:5-hour|weekly|session) limit reached/i;
const API_ERROR =
  /API Error|overloaded_error|\bOverloaded\b|api_error|Internal server error|Connection error|ECONNRESET|ETIMEDOUT|ECONNREFUSED|socket hang up|credit balance is too low/i;
const BUDGET = /budget/i;
const PERMISSION = /permission/i;

/** Epoch ms of the reset a rate-limit message names, or null. */
export function parseResetTime(text: string, now: number): number | null {
  const pipe = /limit reached\|(\d{9,13})/i.exec(text);
  if (pipe) {
    const n = Number(pipe[1]);
    return n < 1e12 ? n * 1000 : n;
  }
  const iso = /reset[s]?(?: at)?:?\s+(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)/i.exec(text);
  if (iso) {
    const t = Date.parse(iso[1]!);
    if (Number.isFinite(t)) return t;
  }
  const inSeconds = /(?:retry|reset[s]?) (?:after|in) (\d+) ?s(?:ec(?:onds)?)?\b/i.exec(text);
  if (inSeconds) return now + Number(inSeconds[1]) * 1000;
  return null;
}

function classifyText(text: string): AgentFailureClass | null {
  if (RATE_LIMIT.test(text)) return "rate_limit";
  if (API_ERROR.test(text)) return "api_error";
  return null;
}

export interface AgentOutcomeInput {
  base: AttemptEnd;
  agent: AgentSummary;
  now: number;
  /** Seconds to wait after a rate limit that names no reset time. */
  rateLimitWaitS: number;
}

function fail(
  base: AttemptEnd,
  failureKind: AgentFailureClass,
  error: string,
  extra: { free?: boolean; retryAt?: number } = {},
): AttemptEnd {
  const exitCode = base.exitCode;
  const signal = base.kind === "failed" ? base.signal : null;
  return {
    kind: "failed",
    failureKind,
    exitCode,
    signal,
    error,
    ...(extra.free ? { retry: "free" as const, retryAt: extra.retryAt } : {}),
  };
}

function short(text: string, n = 300): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
}

export function agentOutcome(input: AgentOutcomeInput): AttemptEnd {
  const { base, agent, now } = input;
  // aipm's own kills (time limit, stall, `aipm kill`) and vanished workers keep their class.
  if (base.kind === "killed") return base;
  if (base.kind === "failed" && base.failureKind !== "exit_code") {
    return base.failureKind === "signal" ? fail(base, "crashed", base.error) : base;
  }
  const r = agent.result;
  const text = [r?.result ?? "", ...agent.textTail].join("\n");
  const rateLimited = () => {
    const reset = agent.rateLimitResetAt ?? parseResetTime(text, now);
    const retryAt = reset !== null && reset > now ? reset : now + input.rateLimitWaitS * 1000;
    const when = new Date(retryAt).toISOString();
    return fail(base, "rate_limit", `usage or rate limit: waiting until ${when}${reset === null ? " (no reset time given)" : ""}`, {
      free: true,
      retryAt,
    });
  };
  if (r) {
    if (!r.is_error && r.subtype === "success") {
      if (base.kind === "success") return base;
      return fail(base, "agent_error", `${base.error} after a successful result`);
    }
    const what = short(r.result ?? r.subtype);
    if (r.subtype === "error_max_turns") return fail(base, "max_turns", `max turns reached (${r.num_turns ?? "?"} turns)`);
    if (r.subtype.includes("budget") || (BUDGET.test(r.subtype) || /max.?budget|budget.*exceeded|exceeded.*budget/i.test(what))) {
      return fail(base, "budget", `budget exhausted: ${what}`);
    }
    const byText = classifyText(what);
    if (byText === "rate_limit" || agent.rateLimitResetAt !== null) return rateLimited();
    if (byText === "api_error") return fail(base, "api_error", `API error: ${what}`);
    if (r.permission_denials.length > 0 || PERMISSION.test(what)) {
      const tools = [...new Set(r.permission_denials.map((d) => d.tool_name ?? "?"))].join(", ");
      return fail(base, "permission_denied", `permission denied${tools ? ` (${tools})` : ""}: ${what}`);
    }
    return fail(base, "agent_error", `agent error (${r.subtype}): ${what}`);
  }
  // No result event.
  if (agent.rateLimitResetAt !== null) return rateLimited();
  const byText = classifyText(agent.textTail.join("\n"));
  if (base.kind === "success") {
    if (!agent.streaming) return base; // a plain agent command: its exit code is the outcome
    return fail(base, "crashed", "the agent ended without a result event");
  }
  if (byText === "rate_limit") return rateLimited();
  const last = agent.textTail.length ? `: ${short(agent.textTail[agent.textTail.length - 1]!)}` : "";
  if (byText === "api_error") return fail(base, "api_error", `API error${last}`);
  return fail(base, "crashed", `${base.error} with no result${last}`);
}
