import { readFileSync, readdirSync } from "node:fs";
const dir = "/tmp/probe/out/";
const ONLY = new RegExp(process.env.ONLY ?? "."); const names = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "8-resume.json" && ONLY.test(f)).map((f) => f.replace(/\.json$/, "")).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
const FULL = new Set(process.argv.slice(2));
let out = "";
const scrub = (s) => s.replace(/\/tmp\/probe-cwd-[A-Za-z0-9]+/g, "$CWD").replace(/\/tmp\/claude-home-[A-Za-z0-9]+/g, "$HOME").replace(/\/tmp\/probe\/elsewhere\/s-[A-Za-z0-9]+/g, "/tmp/elsewhere");
for (const n of names) {
  const c = JSON.parse(readFileSync(dir + n + ".json", "utf8"));
  const lines = c.lines.map((l) => {
    if (l.type === "system" && l.subtype === "init") return JSON.stringify({ type: "system", subtype: "init", permissionMode: l.permissionMode, mcp_servers: l.mcp_servers, "…": "keys/tools: see case 11" });
    if (l.type === "result" && !FULL.has(n)) { const { usage, modelUsage, model_usage_since_last_result, subagent_stats, ...rest } = l; return JSON.stringify({ ...rest, "…": "usage/modelUsage/model_usage_since_last_result/subagent_stats omitted (see case 7)" }); }
    return JSON.stringify(l);
  });
  out += `#### ${n}\n\n- command: \`${scrub(c.command)}\`${c.prompt ? "" : ""}\n- env: \`${JSON.stringify(c.env)}\`${c.unsetEnv ? "" : ""}\n- exit code: **${c.exit_code}**${c.timed_out ? " (killed by the harness timeout: the CLI never exited)" : ""}; ms after result → exit: ${c.ms_after_result ?? "n/a"}\n`;
  if (Object.keys(c.files).length) out += `- files after run: \`${scrub(JSON.stringify(c.files))}\`\n`;
  out += `- API calls: ${c.requests.map((r) => `${r.method} ${r.path} → ${r.answered}`).join("; ")}\n`;
  if (c.stderr.trim()) out += `- stderr: \`${scrub(c.stderr.trim()).replace(/`/g, "'")}\`\n`;
  out += "\n```jsonl\n" + scrub(lines.join("\n")) + "\n```\n\n";
}
process.stdout.write(out);
