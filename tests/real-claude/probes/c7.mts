import { readdirSync, mkdtempSync, } from "node:fs";
import { tmpdir } from "node:os";
import { probe, save } from "../probe.js";
import { steps, toolUse, text, httpError, usageLimitHeaders, startScriptedApi } from "../anthropic-server.js";
import { newHome, runClaude } from "../run-claude.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const always = () => toolUse("Bash", { command: "echo again", description: "x" }, { usage: { input_tokens: 1000, output_tokens: 500, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 } });
const reset = Math.floor(Date.now() / 1000) + 3600;
const resume = async () => {
  const home = newHome(); const cwd = mkdtempSync(tmpdir() + "/probe-cwd-");
  const r1 = await probe({ name: "8-a-first", args: S.concat(["--allowedTools", "Edit(a.txt)"]), home, cwd, prompt: "Write a.txt please", check: ["a.txt"],
    script: steps([toolUse("Write", { file_path: "a.txt", content: "one\n" }), text("Written a.txt."), text("Second run answer.")]) });
  const sid = r1.lines.find((l: any) => l.type === "result")?.session_id;
  const projects = readdirSync(home + "/.claude/projects");
  const files = projects.map((p) => [p, readdirSync(home + "/.claude/projects/" + p)]);
  const api = await startScriptedApi(steps([toolUse("Write", { file_path: "a.txt", content: "one\n" }), text("Written a.txt."), text("Second run answer.")]));
  const r2 = await runClaude({ url: api.url, cwd, home, args: [...S, "--resume", sid], prompt: "What did you do?", timeoutMs: 60000 });
  await api.close();
  const first = api.mainCalls()[0]?.body.messages.map((m: any) => ({ role: m.role, content: typeof m.content === "string" ? m.content.slice(0, 100) : m.content.map((b: any) => b.type === "text" ? { text: b.text.slice(0, 100) } : b.type === "tool_use" ? { tool_use: b.name, input: b.input } : b.type === "tool_result" ? { tool_result: String(typeof b.content === "string" ? b.content : JSON.stringify(b.content)).slice(0, 100) } : { type: b.type }) }));
  const r2res = r2.result;
  const r2lines = r2.events.filter((e: any) => e.type !== "system" || e.subtype !== "init").map((e: any) => JSON.stringify(e).slice(0, 600));
  // same cwd, other cwd: unknown ids
  const apiU = await startScriptedApi(steps([text("should not be asked")]));
  const u1 = await runClaude({ url: apiU.url, cwd, home, args: [...S, "--resume", "00000000-0000-4000-8000-000000000000"], prompt: "hi", timeoutMs: 30000 });
  const u2 = await runClaude({ url: apiU.url, cwd, home, args: [...S, "--resume", "no-such-session"], prompt: "hi", timeoutMs: 30000 });
  const otherCwd = mkdtempSync(tmpdir() + "/probe-cwd-");
  const u3 = await runClaude({ url: apiU.url, cwd: otherCwd, home, args: [...S, "--resume", sid], prompt: "hi", timeoutMs: 30000 });
  await apiU.close();
  const u = (r: any) => ({ code: r.code, stdout: r.stdout.slice(0, 1500), stderr: r.stderr.slice(0, 800), result: r.result });
  const out = { cwd, home, sid, projects, files, r1, r2: { code: r2.code, result: r2res, lines: r2lines, firstRequestMessages: first, stderr: r2.stderr }, unknownUuid: u(u1), unknownName: u(u2), otherCwd: { cwdUsed: otherCwd, ...u(u3) }, unknownRequests: apiU.requests.length };
  save("8-resume", out); return out;
};
const cases = await Promise.all([
  probe({ name: "7-a-max-turns-1", args: [...S, "--allowedTools", "Bash(echo *)", "--max-turns", "1"], script: always }),
  probe({ name: "7-b-max-turns-2", args: [...S, "--allowedTools", "Bash(echo *)", "--max-turns", "2"], script: always }),
  probe({ name: "7-c-max-budget", args: [...S, "--allowedTools", "Bash(echo *)", "--max-budget-usd", "0.0001"], script: always }),
  probe({ name: "7-d-cost-usage", args: S, script: steps([text("done", { usage: { input_tokens: 1000, output_tokens: 500, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 } })]) }),
  probe({ name: "9-a-prompt-arg-stdin-open", args: [...S, "hello there"], keepStdinOpen: true, prompt: "", script: steps([text("hi")]), timeoutMs: 30000 }),
  probe({ name: "9-b-stdin-closed", args: S, prompt: "hello", script: steps([text("hi")]), timeoutMs: 30000 }),
  probe({ name: "9-c-stream-json-input-open", args: [...S, "--input-format", "stream-json"], keepStdinOpen: true, prompt: JSON.stringify({ type: "user", message: { role: "user", content: "hello" } }) + "\n", script: steps([text("hi")]), timeoutMs: 20000 }),
  probe({ name: "10-a-child-env", args: [...S, "--allowedTools", "Bash"], script: steps([toolUse("Bash", { command: "env | grep -E '^(CLAUDE|AI_AGENT|TRACEPARENT|ANTHROPIC|GIT_|DISABLE|OTEL)' | sort", description: "env" }), text("ok")]) }),
  probe({ name: "10-b-claudecode-1", args: [...S, "--allowedTools", "Edit(a.txt)"], env: { CLAUDECODE: "1", CLAUDE_CODE_ENTRYPOINT: "cli", CLAUDE_CODE_SSE_PORT: "12345" }, check: ["a.txt"], script: steps([toolUse("Write", { file_path: "a.txt", content: "x" }), text("ok")]) }),
  probe({ name: "10-c-child-session", args: [...S, "--allowedTools", "Edit(a.txt)"], env: { CLAUDECODE: "1", CLAUDE_CODE_CHILD_SESSION: "1", CLAUDE_CODE_SESSION_ID: "11111111-1111-4111-8111-111111111111" }, check: ["a.txt"], script: steps([toolUse("Write", { file_path: "a.txt", content: "x" }), text("ok")]) }),
  probe({ name: "6-l-oauth-429-retries-on", args: S, env: { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-testtoken" }, unsetEnv: ["ANTHROPIC_API_KEY"], script: steps([httpError(429, "rate_limit_error", "limit", usageLimitHeaders(reset))]), timeoutMs: 40000 }),
  resume(),
]);
for (const c of cases.slice(0, -1) as any[]) save(c.name, c);
for (const c of cases.slice(0, -1) as any[]) {
  const res = c.lines.find((l: any) => l.type === "result");
  console.log("==", c.name, "| exit", c.exit_code, "| ms", c.ms, "after", c.ms_after_result, "timedout", c.timed_out, "| reqs", c.requests.map((r: any) => r.kind + ":" + r.answered).join(","), "| files", JSON.stringify(c.files), "| stderr", c.stderr.slice(0, 300));
  for (const l of c.lines) if (l.type !== "result" && l.subtype !== "init") console.log("   ", JSON.stringify(l).slice(0, 1200));
  if (res) console.log("   RESULT", JSON.stringify(res));
}
const r = cases.at(-1) as any;
console.log("== RESUME", JSON.stringify({ sid: r.sid, cwd: r.cwd, projects: r.projects, files: r.files, r2code: r.r2.code, r2result: r.r2.result?.result, r2sid: r.r2.result?.session_id, r2turns: r.r2.result?.num_turns, stderr: r.r2.stderr }));
console.log("first request msgs", JSON.stringify(r.r2.firstRequestMessages, null, 0));
for (const l of r.r2.lines) console.log("   r2", l);
console.log("unknownUuid", JSON.stringify(r.unknownUuid));
console.log("unknownName", JSON.stringify(r.unknownName));
console.log("otherCwd", JSON.stringify(r.otherCwd));
console.log("unknownRequests", r.unknownRequests);
