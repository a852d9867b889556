/**
 * Reading a Claude Code `--output-format stream-json --verbose` stream: one
 * JSON object per line, recognised by its `type` wherever the key stands
 * (the real `result` line begins `{"duration_api_ms":...`) —
 *
 *   {"type":"system","subtype":"init","session_id":..., "model":..., "tools":[...]}
 *   {"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{...}}]}}
 *   {"type":"assistant","message":{...},"error":"rate_limit"}        an API error, as a message
 *   {"type":"system","subtype":"api_retry","attempt":3,"max_retries":10,"error_status":529,...}
 *   {"type":"system","subtype":"permission_denied", "tool_name":"Write", ...}
 *   {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1771390800}}
 *   {"type":"result","subtype":"success","is_error":false,"terminal_reason":...,"api_error_status":...,
 *    "permission_denials":[...],"num_turns":3,"total_cost_usd":0.01,"modelUsage":{...}}
 *
 * `AgentStream` folds lines into what aipm needs — the session, the final
 * result with its structured fields, API errors and retries, refusals, the
 * files its own Edit/Write calls touched, its progress (a TodoWrite list),
 * a rejected rate limit's reset time — and renders each event as one short
 * readable line (`lastActivity`, and `push`'s `line`) for `status`, `logs`,
 * `execute-task`, the live display and the dashboard. Lines that are not
 * JSON objects with a `type` are kept as text, never an error.
 */

export interface Denial {
  tool: string;
  /** The path or command refused, when the event names one. */
  target: string | null;
}

/** A refusal as read, with the tool call it refused (to tell repeats apart). */
interface SeenDenial extends Denial {
  id: string | null;
}

export interface ResultEvent {
  subtype: string;
  is_error: boolean;
  result: string | null;
  session_id: string | null;
  num_turns: number | null;
  duration_ms: number | null;
  total_cost_usd: number | null;
  usage: unknown;
  permission_denials: Denial[];
  /** Why the CLI stopped (`completed`, `api_error`, `max_turns`...), when it says. */
  terminal_reason: string | null;
  /** The HTTP status of the API error that ended it, when one did. */
  api_error_status: number | null;
  /** The API error's type (`rate_limit_error`, `overloaded_error`, `authentication_error`...), when given. */
  api_error_type: string | null;
  /** The CLI's own name for it (`usage_limit_reached`, `connection_failed`...), when given. */
  api_error: string | null;
  /** `errors` of an error result (`Reached maximum number of turns (3)`, `No conversation found...`). */
  errors: string[];
}

export interface ApiRetry {
  attempt: number | null;
  maxRetries: number | null;
  status: number | null;
  error: string | null;
}

export interface AgentSummary {
  /** At least one stream-json event was seen: the worker speaks stream-json. */
  streaming: boolean;
  sessionId: string | null;
  model: string | null;
  result: ResultEvent | null;
  /** Epoch ms of a rejected rate limit's reset, from a rate_limit_event. */
  rateLimitResetAt: number | null;
  /** The `error` of the last assistant message that carried one (`rate_limit`, `server_error`...). */
  apiError: string | null;
  /** The CLI said a usage limit was reached (`api_error: "usage_limit_reached"`). */
  usageLimit: boolean;
  /** The last `system/api_retry` event, and how many were seen. */
  lastRetry: ApiRetry | null;
  apiRetries: number;
  /** Refusals seen (from `system/permission_denied` events and the result), one per refused call. */
  denials: Denial[];
  /** Files the agent's own file tools wrote (Edit, Write, MultiEdit, NotebookEdit), as given. */
  editedFiles: string[];
  /** It ran shell commands: files may have changed that its file tools do not show. */
  ranCommands: boolean;
  /** The last few non-JSON lines (stderr of a crashing agent, API errors). */
  textTail: string[];
  toolUses: number;
}

const TEXT_TAIL = 20;
const SHORT = 160;
const FILE_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit"]);
const MAX_EDITED = 1000;

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function oneLine(text: string, n = SHORT): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > n ? `${line.slice(0, n - 3)}...` : line;
}

/** A short description of a tool call: `Edit src/a.ts`, `Bash npm test`. */
export function describeToolUse(name: string, input: unknown): string {
  const todo = name === "TodoWrite" ? todoProgress(input) : null;
  if (todo) return `TodoWrite ${todo.done}/${todo.total} done`;
  const i = (input ?? {}) as Record<string, unknown>;
  const arg =
    str(i.file_path) ?? str(i.notebook_path) ?? str(i.path) ?? str(i.command) ?? str(i.pattern) ?? str(i.url) ?? str(i.description) ?? "";
  return oneLine(arg ? `${name} ${arg}` : name);
}

function todoProgress(input: unknown): { done: number; total: number } | null {
  const todos = (input as { todos?: unknown } | null)?.todos;
  if (!Array.isArray(todos) || todos.length === 0) return null;
  const done = todos.filter((t) => (t as { status?: unknown })?.status === "completed").length;
  return { done, total: todos.length };
}

/** What a tool call acts on: its file, command or address. */
function toolTarget(input: unknown): string | null {
  const i = (input ?? {}) as Record<string, unknown>;
  const target = str(i.file_path) ?? str(i.notebook_path) ?? str(i.path) ?? str(i.command) ?? str(i.url) ?? null;
  return target === null ? null : oneLine(target, 200);
}

/** A refusal as the CLI lists it: `{tool_name, tool_use_id, tool_input: {file_path | command ...}}`. */
export function toDenial(v: unknown): Denial {
  const d = (v ?? {}) as Record<string, unknown>;
  return { tool: str(d.tool_name) ?? str(d.tool) ?? "?", target: toolTarget(d.tool_input ?? d.input) };
}

/** `Write b.ts`, `Bash rm -rf x`. */
export function describeDenial(d: Denial): string {
  return d.target ? `${d.tool} ${d.target}` : d.tool;
}

/** The sum of `costUSD` over a per-model usage map, or null when it has none. */
function usageCost(mu: unknown): number | null {
  if (!mu || typeof mu !== "object" || Array.isArray(mu)) return null;
  let sum = 0;
  let any = false;
  for (const m of Object.values(mu as Record<string, unknown>)) {
    const c = num((m as Record<string, unknown> | null)?.costUSD);
    if (c !== null) {
      sum += c;
      any = true;
    }
  }
  return any ? sum : null;
}

/**
 * What this run cost. `total_cost_usd` and `modelUsage` add up the whole
 * session — a resumed run includes the runs before it — so this run's own
 * `model_usage_since_last_result` comes first.
 */
function resultCost(ev: Record<string, unknown>): number | null {
  return usageCost(ev.model_usage_since_last_result) ?? usageCost(ev.modelUsage) ?? num(ev.total_cost_usd) ?? num(ev.cost_usd);
}

/** Parses a line as a stream-json event: a JSON object with a string `type`, else null. */
export function parseEvent(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (trimmed.charCodeAt(0) !== 123 /* { */) return null;
  try {
    const v: unknown = JSON.parse(trimmed);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
    return typeof (v as Record<string, unknown>).type === "string" ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class AgentStream {
  readonly summary: AgentSummary = {
    streaming: false,
    sessionId: null,
    model: null,
    result: null,
    rateLimitResetAt: null,
    apiError: null,
    usageLimit: false,
    lastRetry: null,
    apiRetries: 0,
    denials: [],
    editedFiles: [],
    ranCommands: false,
    textTail: [],
    toolUses: 0,
  };
  /** What the agent did last, for `status`: a tool call, a line of its text, a retry, its result. */
  lastActivity: string | null = null;
  /** The readable line(s) for the last line pushed (none for events not worth a line). */
  lines: string[] = [];
  progress: { done: number; total: number } | null = null;
  /** Recent tool calls by tool_use id: what they acted on (a refusal event and a tool result name only the id). */
  private readonly calls = new Map<string, { name: string; target: string | null }>();
  private seenDenials: SeenDenial[] = [];

  /** Feeds one line (without its newline). Returns true when progress changed. */
  push(line: string): boolean {
    this.lines = [];
    const ev = parseEvent(line);
    if (ev === null) {
      const t = line.trim();
      if (t !== "") {
        this.text(t);
        this.lines.push(line);
      }
      return false;
    }
    const s = this.summary;
    s.streaming = true;
    s.sessionId = str(ev.session_id) ?? s.sessionId;
    switch (ev.type) {
      case "system":
        this.system(ev);
        return false;
      case "assistant":
        return this.assistant(ev);
      case "user":
        this.toolResults(ev);
        return false;
      case "rate_limit_event": {
        const info = (ev.rate_limit_info ?? {}) as Record<string, unknown>;
        const at = num(info.resetsAt) ?? num(info.resets_at);
        if (info.status === "rejected") {
          if (at !== null) s.rateLimitResetAt = at < 1e12 ? at * 1000 : at;
          const when = s.rateLimitResetAt ? ` until ${new Date(s.rateLimitResetAt).toISOString()}` : "";
          this.show(`usage limit reached${when}`);
        }
        return false;
      }
      case "result":
        this.resultEvent(ev);
        return false;
      default:
        return false;
    }
  }

  private show(line: string): void {
    this.lastActivity = line.startsWith("> ") ? line.slice(2) : line;
    this.lines.push(line);
  }

  private system(ev: Record<string, unknown>): void {
    const s = this.summary;
    switch (ev.subtype) {
      case "init": {
        s.model = str(ev.model) ?? s.model;
        const id = str(ev.session_id);
        this.show(`session ${id ? id.slice(0, 8) : "?"} started${s.model ? ` (${s.model})` : ""}`);
        return;
      }
      case "api_retry": {
        const r: ApiRetry = {
          attempt: num(ev.attempt),
          maxRetries: num(ev.max_retries),
          status: num(ev.error_status) ?? num(ev.status),
          error: str(ev.error) ?? str(ev.error_type),
        };
        s.lastRetry = r;
        s.apiRetries++;
        const what = r.status ?? r.error ?? "error";
        this.show(`API retry ${r.attempt ?? "?"}/${r.maxRetries ?? "?"} (${what})`);
        return;
      }
      case "permission_denied": {
        const id = str(ev.tool_use_id);
        // The event names the tool; the call it refused names the file or command.
        const d = { ...toDenial(ev), id };
        if (d.target === null && id !== null) d.target = this.calls.get(id)?.target ?? null;
        this.addDenial(d);
        this.show(`permission denied: ${describeDenial(d)}`);
        return;
      }
      default:
        return;
    }
  }

  private addDenial(d: SeenDenial): void {
    const list = this.seenDenials;
    const same = list.findIndex((x) => (d.id !== null && x.id === d.id) || (x.tool === d.tool && x.target === d.target));
    if (same < 0) list.push(d);
    else if (list[same]!.target === null) list[same] = d;
    this.summary.denials = list.map(({ tool, target }) => ({ tool, target }));
  }

  private resultEvent(ev: Record<string, unknown>): void {
    const raw: unknown[] = Array.isArray(ev.permission_denials) ? ev.permission_denials : [];
    const denials = raw.map(toDenial);
    raw.forEach((v, i) => {
      this.addDenial({ ...denials[i]!, id: str((v as Record<string, unknown> | null)?.tool_use_id) });
    });
    const r: ResultEvent = {
      subtype: str(ev.subtype) ?? "success",
      is_error: ev.is_error === true,
      result: str(ev.result),
      session_id: str(ev.session_id),
      num_turns: num(ev.num_turns),
      duration_ms: num(ev.duration_ms),
      total_cost_usd: resultCost(ev),
      usage: ev.usage ?? null,
      permission_denials: denials,
      terminal_reason: str(ev.terminal_reason),
      api_error_status: num(ev.api_error_status),
      api_error_type: str(ev.api_error_type),
      api_error: str(ev.api_error),
      errors: Array.isArray(ev.errors) ? ev.errors.filter((e): e is string => typeof e === "string").map((e) => oneLine(e, 300)) : [],
    };
    this.noteResetIn(ev.api_error_params);
    this.summary.result = r;
    if (r.api_error === "usage_limit_reached") this.summary.usageLimit = true;
    const facts = [r.subtype, r.num_turns !== null ? `${r.num_turns} turns` : null, r.total_cost_usd !== null ? `$${r.total_cost_usd.toFixed(4)}` : null]
      .filter(Boolean)
      .join(", ");
    this.show(`${r.is_error ? "error" : "result"} (${facts}): ${oneLine(r.result ?? r.errors[0] ?? r.subtype)}`);
  }

  /** A rejected rate limit's reset given with an API error (`api_error_params.rate_limit_info`). */
  private noteResetIn(params: unknown): void {
    const info = (params as { rate_limit_info?: Record<string, unknown> } | null | undefined)?.rate_limit_info;
    const at = num(info?.resetsAt) ?? num(info?.resets_at);
    if (info?.status === "rejected" && at !== null) this.summary.rateLimitResetAt = at < 1e12 ? at * 1000 : at;
  }

  private assistant(ev: Record<string, unknown>): boolean {
    const error = str(ev.error);
    if (error) {
      this.summary.apiError = error;
      if (str(ev.api_error) === "usage_limit_reached") this.summary.usageLimit = true;
      this.noteResetIn(ev.api_error_params);
    }
    const content = (ev.message as { content?: unknown } | null)?.content;
    let changed = false;
    if (Array.isArray(content)) {
      for (const block of content as Array<Record<string, unknown>>) {
        if (block?.type === "tool_use") {
          const name = str(block.name) ?? "tool";
          this.summary.toolUses++;
          const id = str(block.id);
          const target = toolTarget(block.input);
          if (id !== null) {
            this.calls.set(id, { name, target });
            if (this.calls.size > 200) this.calls.delete(this.calls.keys().next().value!);
          }
          this.show(`> ${describeToolUse(name, block.input)}`);
          if (name === "TodoWrite") {
            const p = todoProgress(block.input);
            if (p && (p.done !== this.progress?.done || p.total !== this.progress?.total)) {
              this.progress = p;
              changed = true;
            }
          }
        } else if (block?.type === "text") {
          const t = str(block.text);
          if (t?.trim()) this.show(oneLine(t));
        }
      }
    }
    if (error && !this.lines.length) this.show(`API error: ${error}`);
    return changed;
  }

  /**
   * A tool call's result: a file tool that succeeded wrote its file; a shell
   * command that ran (other than `aipm progress`), or a subagent, may have
   * written anything. Refused and failed calls wrote nothing.
   */
  private toolResults(ev: Record<string, unknown>): void {
    const content = (ev.message as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) return;
    for (const block of content as Array<Record<string, unknown>>) {
      if (block?.type !== "tool_result" || block.is_error === true) continue;
      const call = this.calls.get(str(block.tool_use_id) ?? "");
      if (!call) continue;
      if (FILE_TOOLS.has(call.name)) {
        const list = this.summary.editedFiles;
        if (call.target && !list.includes(call.target) && list.length < MAX_EDITED) list.push(call.target);
      } else if ((call.name === "Bash" && !/^\s*aipm progress\b/.test(call.target ?? "")) || call.name === "Task" || call.name === "Agent") {
        this.summary.ranCommands = true;
      }
    }
  }

  private text(line: string): void {
    const tail = this.summary.textTail;
    tail.push(line.length > 500 ? `${line.slice(0, 497)}...` : line);
    if (tail.length > TEXT_TAIL) tail.shift();
  }
}
