/**
 * A fake `claude -p --output-format stream-json --verbose [--model M]` for
 * tests: it reads its prompt (stdin, or the last argument), emits realistic
 * stream-json — a system/init event, assistant messages with tool_use
 * (TodoWrite, Read, Edit), a final result event — and obeys directives
 * written in the prompt. A directive may carry `@N[,M]`: it then applies on
 * those attempts only (AIPM_ATTEMPT).
 *
 *   [fake:write:PATH]       edit PATH (append a line), with an Edit tool_use
 *   [fake:sleep:S]          wait S seconds (silently) before the result
 *   [fake:is_error]         result is_error:true, exit 0
 *   [fake:max_turns]        result subtype error_max_turns, exit 1
 *   [fake:api_error]        result "API Error: 529 Overloaded", is_error, exit 1
 *   [fake:permission]       result with permission_denials, is_error, exit 1
 *   [fake:crash]            init, then an error on stderr and exit 1 (no result)
 *   [fake:hang]             init, then silence forever
 *   [fake:rate_limit:S]     a rejected rate_limit_event and "Claude AI usage limit
 *                           reached|<now+S>" as an error result, exit 1
 *   [fake:result:TEXT]      the result text (up to the closing bracket)
 *   [fake:hang_after_result] print the final result, then never exit (a known hazard of `claude -p`)
 *
 * With AIPM_REVIEW=1 it is a reviewer: it approves (`VERDICT: APPROVE`)
 * unless `[fake-review:reject]` (optionally `@N`) says to reject, fails as a
 * reviewer with `[fake-review:crash]`, and hits a usage limit resetting in S
 * seconds the first time it reviews an attempt with `[fake-review:rate_limit_once:S]`.
 *
 * FAKE_CLAUDE_RECORD=DIR: each run writes DIR/<task>-<attempt>[-review]-<pid>.json
 * with its argv, prompt, cwd and AIPM_* variables.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomUUID } from "node:crypto";

const argv = process.argv.slice(2);
const env = process.env;
const attempt = Number(env.AIPM_ATTEMPT ?? "1");
const reviewing = env.AIPM_REVIEW === "1";

function readStdin() {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve("");
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", () => resolve(""));
  });
}

const modelAt = argv.indexOf("--model");
const model = modelAt >= 0 ? argv[modelAt + 1] : null;
const flagsWithValue = new Set([
  "--model", "--output-format", "--max-turns", "--permission-mode", "--settings", "--setting-sources",
  "--max-budget-usd", "--resume", "--allowedTools", "--disallowedTools",
]);
let positional = null;
for (let i = 0; i < argv.length; i++) {
  if (flagsWithValue.has(argv[i])) i++;
  else if (!argv[i].startsWith("-")) positional = argv[i];
}
const prompt = positional ?? (await readStdin());

if (env.FAKE_CLAUDE_RECORD) {
  mkdirSync(env.FAKE_CLAUDE_RECORD, { recursive: true });
  const vars = Object.fromEntries(Object.entries(env).filter(([k]) => /^(AIPM_|CLAUDE|API_TIMEOUT_MS$)/.test(k)));
  const name = `${env.AIPM_TASK ?? "task"}-${attempt}${reviewing ? "-review" : ""}-${process.pid}.json`;
  writeFileSync(join(env.FAKE_CLAUDE_RECORD, name), JSON.stringify({ argv, prompt, cwd: process.cwd(), vars }, null, 2));
}

/** Directives of one prefix that apply on this attempt: [{arg}]. */
function directives(prefix) {
  const out = [];
  const re = new RegExp(`\\[${prefix}:([a-z_]+)(?::([^\\]@]*))?(?:@([\\d,]+))?\\]`, "g");
  for (const m of prompt.matchAll(re)) {
    if (m[3] && !m[3].split(",").map(Number).includes(attempt)) continue;
    out.push({ name: m[1], arg: m[2] ?? "" });
  }
  return out;
}
const has = (list, name) => list.find((d) => d.name === name);

const sessionId = randomUUID();
const emit = (ev) => process.stdout.write(`${JSON.stringify(ev)}\n`);
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
let turns = 0;
const assistant = (content) => {
  turns++;
  emit({ type: "assistant", message: { id: randomUUID(), type: "message", role: "assistant", model: model ?? "claude-fake", content }, session_id: sessionId });
};
const toolUse = (name, input) => {
  const id = `toolu_${randomUUID().slice(0, 8)}`;
  assistant([{ type: "tool_use", id, name, input }]);
  emit({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "ok" }] }, session_id: sessionId });
};
const result = (fields) =>
  emit({
    type: "result",
    subtype: "success",
    is_error: false,
    duration_ms: 1234,
    duration_api_ms: 1000,
    num_turns: turns,
    result: "",
    session_id: sessionId,
    total_cost_usd: 0.0123,
    usage: { input_tokens: 1200, output_tokens: 345, cache_read_input_tokens: 5000, cache_creation_input_tokens: 0 },
    permission_denials: [],
    ...fields,
  });
async function finish(code) {
  await new Promise((r) => process.stdout.write("", r));
  process.exit(code);
}

emit({ type: "system", subtype: "init", cwd: process.cwd(), session_id: sessionId, model: model ?? "claude-fake", tools: ["Read", "Edit", "Bash", "TodoWrite"], permissionMode: "default" });

if (reviewing) {
  const d = directives("fake-review");
  if (has(d, "crash")) {
    process.stderr.write("Error: the fake reviewer crashed\n");
    await finish(1);
  }
  const once = has(d, "rate_limit_once");
  const marker = join(env.FAKE_CLAUDE_RECORD ?? "/tmp", `${env.AIPM_TASK}-${attempt}.review-limited`);
  if (once && !existsSync(marker)) {
    writeFileSync(marker, "");
    const resetsAt = Math.floor(Date.now() / 1000) + Number(once.arg || "60");
    emit({ type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt }, session_id: sessionId });
    result({ is_error: true, result: `Claude AI usage limit reached|${resetsAt}`, total_cost_usd: 0, num_turns: 1 });
    await finish(1);
  }
  toolUse("Read", { file_path: "review.diff" });
  const reject = has(d, "reject");
  const text = reject ? "The change misses the edge case of an empty list: handle it and add a test.\nVERDICT: REJECT" : "The change does what the task asks.\nVERDICT: APPROVE";
  assistant([{ type: "text", text }]);
  result({ result: text });
  await finish(0);
}

const d = directives("fake");
if (has(d, "hang")) {
  assistant([{ type: "text", text: "Thinking very hard..." }]);
  for (;;) await sleep(3600);
}
if (has(d, "crash")) {
  process.stderr.write("Error: fake crash (TypeError: Cannot read properties of undefined)\n");
  await finish(1);
}
const rl = has(d, "rate_limit");
if (rl) {
  const resetsAt = Math.floor(Date.now() / 1000) + Number(rl.arg || "60");
  emit({ type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt, rateLimitType: "five_hour" }, session_id: sessionId });
  result({ is_error: true, result: `Claude AI usage limit reached|${resetsAt}`, total_cost_usd: 0, num_turns: 1 });
  await finish(1);
}

toolUse("TodoWrite", { todos: [{ content: "read the code", status: "in_progress", activeForm: "Reading" }, { content: "make the change", status: "pending", activeForm: "Changing" }] });
toolUse("Read", { file_path: "README.md" });
for (const w of d.filter((x) => x.name === "write")) {
  mkdirSync(dirname(w.arg), { recursive: true });
  appendFileSync(w.arg, `edited by ${env.AIPM_TASK ?? "fake"} attempt ${attempt}\n`);
  toolUse("Edit", { file_path: w.arg, old_string: "", new_string: "edited" });
}
toolUse("TodoWrite", { todos: [{ content: "read the code", status: "completed", activeForm: "Reading" }, { content: "make the change", status: "in_progress", activeForm: "Changing" }] });
const sl = has(d, "sleep");
if (sl) await sleep(Number(sl.arg));
toolUse("TodoWrite", { todos: [{ content: "read the code", status: "completed", activeForm: "Reading" }, { content: "make the change", status: "completed", activeForm: "Changing" }] });

if (has(d, "is_error")) {
  result({ is_error: true, subtype: "error_during_execution", result: "Something failed while editing" });
  await finish(0);
}
if (has(d, "max_turns")) {
  result({ is_error: true, subtype: "error_max_turns", result: undefined });
  await finish(1);
}
if (has(d, "api_error")) {
  result({ is_error: true, result: "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}" });
  await finish(1);
}
if (has(d, "permission")) {
  result({ is_error: true, result: "I could not run the tests: permission to use Bash was denied.", permission_denials: [{ tool_name: "Bash", tool_use_id: "toolu_x", tool_input: { command: "npm test" } }] });
  await finish(1);
}
const text = has(d, "result")?.arg || `Finished ${env.AIPM_TASK ?? "the task"}: made the change.`;
assistant([{ type: "text", text }]);
result({ result: text });
if (has(d, "hang_after_result")) {
  await new Promise((r) => process.stdout.write("", r));
  for (;;) await sleep(3600);
}
await finish(0);
