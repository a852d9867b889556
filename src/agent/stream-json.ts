/**
 * Reading a Claude Code `--output-format stream-json --verbose` stream: one
 * JSON object per line —
 *
 *   {"type":"system","subtype":"init","session_id":..., "model":...}
 *   {"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{...}}]}}
 *   {"type":"user","message":{"content":[{"type":"tool_result",...}]}}
 *   {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1771390800}}
 *   {"type":"result","subtype":"success","is_error":false,"num_turns":3,"total_cost_usd":0.01,...}
 *
 * `AgentStream` folds lines into what aipm needs: the session, the last
 * thing the agent did (for `status`), its progress (a TodoWrite list:
 * completed / all), a rejected rate limit's reset time, the final result, and
 * the last plain-text lines (an agent that dies prints its error as text).
 * Lines that are not JSON objects are kept as text, never an error.
 */

export interface ResultEvent {
  subtype: string;
  is_error: boolean;
  result: string | null;
  session_id: string | null;
  num_turns: number | null;
  duration_ms: number | null;
  total_cost_usd: number | null;
  usage: unknown;
  permission_denials: Array<{ tool_name?: string }>;
}

export interface AgentSummary {
  /** At least one stream-json event was seen: the worker speaks stream-json. */
  streaming: boolean;
  sessionId: string | null;
  model: string | null;
  result: ResultEvent | null;
  /** Epoch ms of a rejected rate limit's reset, from a rate_limit_event. */
  rateLimitResetAt: number | null;
  /** The last few non-JSON lines (stderr of a crashing agent, API errors). */
  textTail: string[];
  toolUses: number;
}

const TEXT_TAIL = 20;
const SHORT = 160;

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > SHORT ? `${line.slice(0, SHORT - 3)}...` : line;
}

/** A short description of a tool call: `Edit src/a.ts`, `Bash npm test`. */
export function describeToolUse(name: string, input: unknown): string {
  const todo = name === "TodoWrite" ? todoProgress(input) : null;
  if (todo) return `TodoWrite ${todo.done}/${todo.total} done`;
  const i = (input ?? {}) as Record<string, unknown>;
  const arg = str(i.file_path) ?? str(i.path) ?? str(i.command) ?? str(i.pattern) ?? str(i.url) ?? str(i.description) ?? "";
  return oneLine(arg ? `${name} ${arg}` : name);
}

function todoProgress(input: unknown): { done: number; total: number } | null {
  const todos = (input as { todos?: unknown } | null)?.todos;
  if (!Array.isArray(todos) || todos.length === 0) return null;
  const done = todos.filter((t) => (t as { status?: unknown })?.status === "completed").length;
  return { done, total: todos.length };
}

export class AgentStream {
  readonly summary: AgentSummary = {
    streaming: false,
    sessionId: null,
    model: null,
    result: null,
    rateLimitResetAt: null,
    textTail: [],
    toolUses: 0,
  };
  /** What the agent did last, for `status`: a tool call, a line of its text, its result. */
  lastActivity: string | null = null;
  progress: { done: number; total: number } | null = null;

  /** Feeds one line (without its newline). Returns true when progress changed. */
  push(line: string): boolean {
    const trimmed = line.trim();
    if (trimmed === "") return false;
    if (trimmed.charCodeAt(0) !== 123 /* { */) {
      this.text(trimmed);
      return false;
    }
    let ev: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(trimmed);
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error();
      ev = v as Record<string, unknown>;
    } catch {
      this.text(trimmed);
      return false;
    }
    const type = str(ev.type);
    if (type === null) {
      this.text(trimmed);
      return false;
    }
    const s = this.summary;
    s.streaming = true;
    s.sessionId = str(ev.session_id) ?? s.sessionId;
    switch (type) {
      case "system":
        if (ev.subtype === "init") s.model = str(ev.model) ?? s.model;
        return false;
      case "assistant":
        return this.assistant(ev.message);
      case "rate_limit_event": {
        const info = (ev.rate_limit_info ?? {}) as Record<string, unknown>;
        const at = num(info.resetsAt) ?? num(info.resets_at);
        if (info.status === "rejected" && at !== null) s.rateLimitResetAt = at < 1e12 ? at * 1000 : at;
        return false;
      }
      case "result": {
        const r: ResultEvent = {
          subtype: str(ev.subtype) ?? "success",
          is_error: ev.is_error === true,
          result: str(ev.result),
          session_id: str(ev.session_id),
          num_turns: num(ev.num_turns),
          duration_ms: num(ev.duration_ms),
          total_cost_usd: num(ev.total_cost_usd) ?? num(ev.cost_usd),
          usage: ev.usage ?? null,
          permission_denials: Array.isArray(ev.permission_denials) ? (ev.permission_denials as ResultEvent["permission_denials"]) : [],
        };
        s.result = r;
        this.lastActivity = `${r.is_error ? "error" : "result"}: ${oneLine(r.result ?? r.subtype)}`;
        return false;
      }
      default:
        return false;
    }
  }

  private assistant(message: unknown): boolean {
    const content = (message as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) return false;
    let changed = false;
    for (const block of content as Array<Record<string, unknown>>) {
      if (block?.type === "tool_use") {
        const name = str(block.name) ?? "tool";
        this.summary.toolUses++;
        this.lastActivity = describeToolUse(name, block.input);
        if (name === "TodoWrite") {
          const p = todoProgress(block.input);
          if (p && (p.done !== this.progress?.done || p.total !== this.progress?.total)) {
            this.progress = p;
            changed = true;
          }
        }
      } else if (block?.type === "text") {
        const t = str(block.text);
        if (t && t.trim()) this.lastActivity = oneLine(t);
      }
    }
    return changed;
  }

  private text(line: string): void {
    const tail = this.summary.textTail;
    tail.push(line.length > 500 ? `${line.slice(0, 497)}...` : line);
    if (tail.length > TEXT_TAIL) tail.shift();
  }
}
