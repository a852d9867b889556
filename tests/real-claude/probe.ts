/**
 * Measurement harness behind FINDINGS.md (not a test). Runs one probe case:
 * scripted API + real claude in a temp dir, then prints a trimmed JSON report.
 *
 *   npx tsx tests/real-claude/probe.ts   (used via import from ad-hoc scripts)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startScriptedApi, type Script, type ScriptedApiOptions } from "./anthropic-server.js";
import { newHome, runClaude, type ClaudeRun } from "./run-claude.js";

export interface ProbeCase {
  name: string;
  args: string[];
  script: Script;
  apiOptions?: ScriptedApiOptions;
  prompt?: string;
  env?: Record<string, string>;
  unsetEnv?: string[];
  /** Files to create in the cwd before the run (relative path -> content). */
  files?: Record<string, string>;
  /** Files whose existence to report after the run. */
  check?: string[];
  timeoutMs?: number;
  keepStdinOpen?: boolean;
  home?: string;
  cwd?: string;
}

const TRIM = 400;

function trimDeep(v: unknown, depth = 0): unknown {
  if (typeof v === "string") return v.length > TRIM ? v.slice(0, TRIM) + `…(+${v.length - TRIM})` : v;
  if (Array.isArray(v)) return depth > 6 ? `[${v.length} items]` : v.map((x) => trimDeep(x, depth + 1));
  if (v && typeof v === "object") {
    if (depth > 6) return "{…}";
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trimDeep(x, depth + 1)]));
  }
  return v;
}

/** The lines FINDINGS cares about, trimmed. */
export function interesting(run: ClaudeRun): unknown[] {
  const out: unknown[] = [];
  for (const e of run.events) {
    if (e.type === "system" && e.subtype === "init") {
      out.push({ type: "system", subtype: "init", keys: Object.keys(e), tools: e.tools, permissionMode: e.permissionMode, model: e.model, mcp_servers: e.mcp_servers });
    } else if (e.type === "system") out.push(trimDeep(e));
    else if (e.type === "rate_limit_event") out.push(e);
    else if (e.type === "assistant") {
      const m = e.message ?? {};
      const content = (m.content ?? []).map((b: any) => (b.type === "text" ? { type: "text", text: b.text } : b.type === "tool_use" ? { type: "tool_use", name: b.name, input: b.input } : { type: b.type }));
      const extra = Object.fromEntries(Object.entries(e).filter(([k]) => !["message", "uuid", "session_id", "parent_tool_use_id", "timestamp", "type"].includes(k)));
      out.push({ type: "assistant", content, ...(m.model !== undefined ? { model: m.model } : {}), ...trimDeep(extra) as object });
    } else if (e.type === "user") {
      const content = (e.message?.content ?? []).filter((b: any) => b.type === "tool_result").map((b: any) => trimDeep({ tool_result: b.content, is_error: b.is_error }));
      out.push({ type: "user", content, ...(e.tool_result_meta ? { tool_result_meta: e.tool_result_meta } : {}) });
    } else if (e.type === "result") out.push(e);
    else out.push(trimDeep(e));
  }
  return out;
}

export async function probe(c: ProbeCase): Promise<any> {
  const api = await startScriptedApi(c.script, c.apiOptions);
  const cwd = c.cwd ?? mkdtempSync(join(tmpdir(), "probe-cwd-"));
  for (const [p, content] of Object.entries(c.files ?? {})) {
    mkdirSync(dirname(join(cwd, p)), { recursive: true });
    writeFileSync(join(cwd, p), content);
  }
  const home = c.home ?? newHome();
  const run = await runClaude({ url: api.url, cwd, home, args: c.args, prompt: c.prompt ?? "Do the task.", env: c.env, unsetEnv: c.unsetEnv, timeoutMs: c.timeoutMs ?? 60_000, keepStdinOpen: c.keepStdinOpen });
  await api.close();
  const report = {
    name: c.name,
    command: `claude ${c.args.map((a) => (/[\s"(*]/.test(a) || a === "" ? JSON.stringify(a) : a)).join(" ")}`,
    env: c.env ?? {},
    exit_code: run.code,
    signal: run.signal,
    timed_out: run.timedOut,
    ms: run.ms,
    ms_after_result: run.msAfterResult,
    stderr: run.stderr.slice(0, 2000),
    non_json_stdout: run.stdout.split("\n").filter((l) => l.trim() && !l.trim().startsWith("{")).slice(0, 20),
    files: Object.fromEntries((c.check ?? []).map((f) => [f, existsSync(join(cwd, f)) ? readFileSync(join(cwd, f), "utf8").slice(0, 200) : null])),
    requests: api.requests.map((r) => ({ seq: r.seq, method: r.method, path: r.path, kind: r.kind, reason: r.reason, model: r.body?.model, answered: r.answered, retry: r.headers["x-stainless-retry-count"] })),
    lines: interesting(run),
    cwd,
    home,
  };
  return report;
}

export function save(name: string, data: unknown): void {
  mkdirSync("/tmp/probe/out", { recursive: true });
  writeFileSync(`/tmp/probe/out/${name}.json`, JSON.stringify(data, null, 1));
}
