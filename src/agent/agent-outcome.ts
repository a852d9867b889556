/**
 * How an agent attempt ended, from its exit and its stream. The CLI's
 * structured fields decide first — the result's `subtype`, `is_error`,
 * `terminal_reason`, `api_error_status`, `permission_denials`; the `error`
 * of an assistant message (`rate_limit`, `overloaded`, `server_error`,
 * `authentication_failed`, `billing_error`...); a rejected
 * `rate_limit_event` with its `resetsAt` — and Claude Code's own wording
 * only as a fallback (it has changed several times: anchored patterns, so
 * an error that merely mentions a quota or a status code is not taken for one).
 *
 * | seen                                                | failure kind        | what then                          |
 * |-----------------------------------------------------|---------------------|------------------------------------|
 * | success result, no refusal, exit 0                  | (success)           |                                    |
 * | success result listing `permission_denials`         | `permission_denied` | FAILED at once (same prompt, same wall) |
 * | `error_max_turns`                                   | `max_turns`         | FAILED at once                     |
 * | `error_max_budget_usd` (any budget subtype)         | `budget`            | FAILED at once                     |
 * | 401/403, authentication or billing error            | `auth`              | FAILED at once                     |
 * | rejected usage limit (event, or its text)           | `rate_limit`        | no attempt spent; the project's agent tasks wait for the reset |
 * | 429 / rate_limit                                    | `rate_limit`        | no attempt spent; waits (retry time, else capped backoff) |
 * | 529, 5xx, request timeout, connection error         | `api_error`         | no attempt spent; capped backoff; `api_error` after AIPM_TRANSIENT_MAX_S |
 * | any other error result                              | `agent_error`       | retried while attempts remain      |
 * | exit != 0 or stream-json without a result           | `crashed`           | retried while attempts remain      |
 * | exit 0, no stream-json at all                       | (success: a plain agent command) |                       |
 * | killed by aipm (time limit, stall, by hand)         | unchanged           |                                    |
 */
import type { AttemptEnd } from "../store/transitions.js";
import { describeDenial, type AgentSummary, type Denial } from "./stream-json.js";

export type AgentFailureClass =
  | "max_turns"
  | "budget"
  | "rate_limit"
  | "api_error"
  | "permission_denied"
  | "auth"
  | "agent_error"
  | "crashed";

/** Claude Code's own words for a usage limit (several wordings since 2025). */
const USAGE_LIMIT =
  /usage limit reached|hit your (?:usage |session |weekly )?limit|\b(?:5-hour|weekly|session|opus) limit reached|limit reached\|\d{9,13}/i;
/** Its words for a request rate limit. */
const RATE_LIMIT =
  /rate_limit_error|API Error: 429|Request rejected \(429\)|429 Too Many Requests|exceed your (?:account's|organization's) rate limit|Rate limited\. Please try again/i;
const AUTH = /authentication_error|invalid x-api-key|Invalid API key|OAuth token has expired|credit balance is too low|billing_error|Please run \/login/i;
const API_ERROR =
  /API Error|overloaded_error|\bOverloaded\b|api_error|Internal server error|Request timed out|Connection error|ECONNRESET|ETIMEDOUT|ECONNREFUSED|socket hang up|fetch failed/i;

/** `error` values of assistant messages, by class. */
const AUTH_ERRORS = new Set(["authentication_failed", "billing_error", "permission_error", "oauth_token_expired"]);
const RATE_ERRORS = new Set(["rate_limit", "rate_limit_error"]);
const TRANSIENT_ERRORS = new Set(["overloaded", "server_error", "api_error", "timeout", "connection_error", "request_timeout", "unknown"]);

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

export interface AgentOutcomeInput {
  base: AttemptEnd;
  agent: AgentSummary;
  now: number;
  /** Seconds to wait after a usage limit that names no reset time. */
  rateLimitWaitS: number;
}

interface FailExtra {
  retry?: "free" | "never";
  retryAt?: number | undefined;
  holdProject?: boolean;
}

function fail(base: AttemptEnd, failureKind: AgentFailureClass, error: string, extra: FailExtra = {}): AttemptEnd {
  const exitCode = base.exitCode;
  const signal = base.kind === "failed" ? base.signal : null;
  return { kind: "failed", failureKind, exitCode, signal, error, ...extra };
}

function short(text: string, n = 300): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
}

/** `permission denied: Write b.ts, Bash rm -rf x`. */
export function denialError(denials: readonly Denial[]): string {
  const shown = denials.slice(0, 5).map(describeDenial).join(", ");
  const more = denials.length > 5 ? `, and ${denials.length - 5} more` : "";
  return `permission denied: ${shown}${more} (outside the task's permissions: add the file to target_files or the rule to allowed_tools)`;
}

/** `refused`: the API turned the request down for what it is: not transient, and no text says otherwise. */
type ApiClass = "auth" | "usage_limit" | "rate_limit" | "transient" | "refused" | null;

/** The API trouble the structured fields show, if any. */
function apiClass(agent: AgentSummary): ApiClass {
  const r = agent.result;
  if (agent.rateLimitResetAt !== null || agent.usageLimit) return "usage_limit";
  // A retry the CLI recovered from says nothing of a later end: it counts only when no result came.
  const status = r ? r.api_error_status : (agent.lastRetry?.status ?? null);
  const err = agent.apiError ?? (r?.api_error === "connection_failed" ? "connection_error" : null);
  const type = r?.api_error_type ?? null;
  if (status === 401 || status === 403 || (err !== null && AUTH_ERRORS.has(err)) || type === "authentication_error" || type === "permission_error" || type === "billing_error") {
    return "auth";
  }
  if (status === 429 || (err !== null && RATE_ERRORS.has(err)) || type === "rate_limit_error") return "rate_limit";
  // A request refused for what it is (400 invalid_request, prompt too long) will be refused again.
  if ((status !== null && status >= 400 && status < 500 && status !== 408) || err === "invalid_request") return "refused";
  if (
    (status !== null && (status >= 500 || status === 408)) ||
    (err !== null && TRANSIENT_ERRORS.has(err)) ||
    type === "overloaded_error" ||
    type === "api_error" ||
    r?.terminal_reason === "api_error"
  ) {
    return "transient";
  }
  return null;
}

/** The same, from the words of the result and the last lines of text: the fallback. */
function textClass(text: string): ApiClass {
  if (USAGE_LIMIT.test(text)) return "usage_limit";
  if (AUTH.test(text)) return "auth";
  if (RATE_LIMIT.test(text)) return "rate_limit";
  if (API_ERROR.test(text)) return "transient";
  return null;
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
  const what = short(r?.result ?? r?.errors[0] ?? agent.textTail[agent.textTail.length - 1] ?? r?.subtype ?? "");

  const byApi = (cls: Exclude<ApiClass, null | "refused">): AttemptEnd => {
    const status = r ? r.api_error_status : (agent.lastRetry?.status ?? null);
    const label = `${status !== null ? `${status} ` : ""}${agent.apiError ?? r?.api_error_type ?? ""}`.trim();
    const detail = `${label ? `${label}: ` : ""}${what}`;
    switch (cls) {
      case "auth":
        return fail(base, "auth", `authentication or billing error: ${detail}`, { retry: "never" });
      case "usage_limit": {
        const reset = agent.rateLimitResetAt ?? parseResetTime(text, now);
        const retryAt = reset !== null && reset > now ? reset : Math.round(now + input.rateLimitWaitS * 1000);
        const when = new Date(retryAt).toISOString();
        return fail(base, "rate_limit", `usage limit: waiting until ${when}${reset === null ? " (no reset time given)" : ""}`, {
          retry: "free",
          retryAt,
          holdProject: true,
        });
      }
      case "rate_limit": {
        const reset = parseResetTime(text, now);
        return fail(base, "rate_limit", `rate limited (${detail})`, { retry: "free", retryAt: reset !== null && reset > now ? reset : undefined });
      }
      case "transient":
        return fail(base, "api_error", `API error (${detail})`, { retry: "free" });
    }
  };

  if (r) {
    if (!r.is_error && r.subtype === "success") {
      const denials = agent.denials;
      if (denials.length > 0) return fail(base, "permission_denied", denialError(denials), { retry: "never" });
      if (base.kind === "success") return base;
      return fail(base, "agent_error", `${base.error} after a successful result`);
    }
    if (r.subtype === "error_max_turns" || r.terminal_reason === "max_turns") {
      return fail(base, "max_turns", `max turns reached (${r.num_turns ?? "?"} turns)`, { retry: "never" });
    }
    if (/budget/i.test(r.subtype) || /budget/i.test(r.terminal_reason ?? "")) {
      return fail(base, "budget", `budget exhausted: ${what}`, { retry: "never" });
    }
    // `--resume` of a session this machine no longer has: start afresh, no attempt spent.
    if (r.errors.some((e) => /No conversation found/i.test(e))) {
      return fail(base, "agent_error", `could not resume: ${what}`, { retry: "free" });
    }
    const cls = apiClass(agent) ?? textClass(text);
    if (cls && cls !== "refused") return byApi(cls);
    if (agent.denials.length > 0) return fail(base, "permission_denied", denialError(agent.denials), { retry: "never" });
    return fail(base, "agent_error", `agent error (${r.subtype}): ${what}`);
  }
  // No result event.
  if (base.kind === "success" && !agent.streaming) return base; // a plain agent command: its exit code is the outcome
  const cls = apiClass(agent) ?? textClass(agent.textTail.join("\n"));
  if (cls && cls !== "refused") return byApi(cls);
  if (base.kind === "success") return fail(base, "crashed", "the agent ended without a result event");
  const last = agent.textTail.length ? `: ${short(agent.textTail[agent.textTail.length - 1]!)}` : "";
  return fail(base, "crashed", `${base.error} with no result${last}`);
}
