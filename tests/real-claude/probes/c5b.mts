import { probe, save } from "../probe.js";
import { steps, text, hang, httpError } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const NR = { CLAUDE_CODE_MAX_RETRIES: "0" };
const cases = await Promise.all([
  probe({ name: "5-o-hang-after-headers-idle", args: S, env: { ...NR, CLAUDE_STREAM_IDLE_TIMEOUT_MS: "3000", CLAUDE_ENABLE_STREAM_WATCHDOG: "1" }, script: steps([hang(true)]), timeoutMs: 40000 }),
  probe({ name: "5-p-hang-after-headers-idle-only", args: S, env: { ...NR, CLAUDE_STREAM_IDLE_TIMEOUT_MS: "3000" }, script: steps([hang(true)]), timeoutMs: 40000 }),
  probe({ name: "5-q-429-retry-after-3600-retries-on", args: S, env: {}, script: steps([httpError(429, "rate_limit_error", "per-minute rate limit", { "retry-after": "3600" })]), timeoutMs: 25000 }),
  probe({ name: "5-r-hang-retries-on", args: S, env: { API_TIMEOUT_MS: "2000" }, script: steps([(r) => r.attempt < 1 ? hang() : text("after timeout retry")]), timeoutMs: 40000 }),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  console.log("==", c.name, "| exit", c.exit_code, "| ms", c.ms, "timedout", c.timed_out, "| reqs", c.requests.map((r: any) => r.kind + ":" + r.answered).join(","), "| stderr", c.stderr.slice(0, 300));
  for (const l of c.lines) if (l.type !== "result" && l.subtype !== "init") console.log("   ", JSON.stringify(l).slice(0, 900));
  if (res) { const { usage, modelUsage, model_usage_since_last_result, subagent_stats, ...rest } = res; console.log("   RESULT", JSON.stringify(rest)); }
}
