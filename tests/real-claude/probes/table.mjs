import { readFileSync, readdirSync } from "node:fs";
const dir = "/tmp/probe/out/";
const names = readdirSync(dir).filter((f) => /^[234]-/.test(f)).map((f) => f.replace(/\.json$/, "")).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
const scrub = (s) => s.replace(/\/tmp\/probe-cwd-[A-Za-z0-9]+/g, "$CWD").replace(/\/tmp\/probe-outside-[A-Za-z0-9]+/g, "/tmp/outside").replace(/\/tmp\/claude-home-[A-Za-z0-9]+/g, "$HOME").replace(/\/tmp\/probe\/elsewhere\/s-[A-Za-z0-9]+/g, "/tmp/elsewhere");
let out = "| case | flags (after `-p --output-format stream-json --verbose`) | tool call | outcome | permission_decision (tool_result_meta) | permission_denied line | in permission_denials |\n|---|---|---|---|---|---|---|\n";
for (const n of names) {
  const c = JSON.parse(readFileSync(dir + n + ".json", "utf8"));
  const flags = scrub(c.command.replace(/^claude -p --output-format stream-json --verbose ?/, "")).replace(/\|/g, "\\|");
  const call = c.lines.find((l) => l.type === "assistant" && l.content?.[0]?.type === "tool_use")?.content[0];
  const u = c.lines.find((l) => l.type === "user");
  const tr = u?.content?.[0];
  const meta = u?.tool_result_meta?.[0];
  const pd = c.lines.find((l) => l.subtype === "permission_denied");
  const res = c.lines.find((l) => l.type === "result");
  const input = call ? (call.input.command ?? call.input.file_path ?? call.input.pattern ?? JSON.stringify(call.input)) : "";
  const allowed = tr ? (tr.is_error && /denied|haven't granted|No such tool/.test(String(tr.tool_result)) ? (/No such tool/.test(tr.tool_result) ? "no such tool" : "**refused**") : "allowed") : "?";
  const extra = c.env && Object.keys(c.env).length ? ` env ${JSON.stringify(c.env)}` : "";
  const _setup = Object.keys(c.files).length ? "" : "";
  out += `| ${n} | \`${flags}\`${extra} | ${call?.name}(\`${scrub(String(input)).replace(/\|/g, "\\|")}\`) | ${allowed} | ${meta ? `\`${JSON.stringify({ ...meta.permission_decision, ...(meta.non_execution_kind ? { non_execution_kind: meta.non_execution_kind } : {}) })}\`` : "-"} | ${pd ? `yes${pd.decision_reason_type ? ` (decision_reason_type ${pd.decision_reason_type})` : " (no decision_reason_type)"}` : "no"} | ${res?.permission_denials?.length ?? "?"} |\n`;
}
process.stdout.write(out);
