import { mkdirSync, readdirSync, } from "node:fs";
import { startScriptedApi, steps, toolUse, text, systemText } from "../anthropic-server.js";
import { newHome, runClaude } from "../run-claude.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const cwd = "/tmp/probe dir.with_odd-chars@1"; mkdirSync(cwd, { recursive: true });
for (const [label, unset] of [["nonessential-on", ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "DISABLE_TELEMETRY"]], ["default", []]] as const) {
  const api = await startScriptedApi(steps([toolUse("Bash", { command: "echo hi", description: "x" }), text("All good, the command printed hi.")]));
  const home = newHome();
  const r = await runClaude({ url: api.url, cwd, home, args: S, prompt: "Please run echo hi and tell me the output", unsetEnv: [...unset], timeoutMs: 60000 });
  await new Promise((res) => setTimeout(res, 1500)); // catch late side calls after exit (diagnostic only)
  console.log("==", label, "exit", r.code, "ms", r.ms, "result", r.result?.result);
  for (const q of api.requests) console.log("  ", q.seq, q.method, q.path, q.kind, q.reason, "model=" + q.body?.model, "max_tokens=" + q.body?.max_tokens, "tools=" + (q.body?.tools?.length ?? "-"), "sys=" + JSON.stringify(systemText(q.body).slice(0, 160)), "answered=" + q.answered);
  console.log("   projects:", readdirSync(home + "/.claude/projects"));
  await api.close();
}
