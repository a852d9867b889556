import { probe, save } from "../probe.js";
import { steps, toolUse, text, httpError, usageLimitHeaders, } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const NR = { CLAUDE_CODE_MAX_RETRIES: "0" };
const reset = Math.floor(Date.now() / 1000) + 3600;
const e429 = (h: Record<string,string>) => httpError(429, "rate_limit_error", "This request would exceed your account's rate limit. Please try again later.", h);
const run = (name: string, script: any, env: Record<string,string> = NR, timeoutMs = 60000) => probe({ name, args: S, env, script, timeoutMs });
const cases = await Promise.all([
  run("6-a-429-rejected-5h", steps([e429(usageLimitHeaders(reset))])),
  run("6-b-429-rejected-5h-retries-on", steps([e429(usageLimitHeaders(reset))]), {}, 90000),
  run("6-c-429-rejected-7d", steps([e429({ ...usageLimitHeaders(reset, "seven_day"), "anthropic-ratelimit-unified-7d-reset": String(reset), "anthropic-ratelimit-unified-7d-utilization": "1.0" })])),
  run("6-d-200-allowed-warning", steps([text("ok", { headers: { "anthropic-ratelimit-unified-status": "allowed_warning", "anthropic-ratelimit-unified-reset": String(reset), "anthropic-ratelimit-unified-representative-claim": "five_hour", "anthropic-ratelimit-unified-5h-utilization": "0.95", "anthropic-ratelimit-unified-5h-reset": String(reset), "anthropic-ratelimit-unified-5h-status": "allowed_warning" } })])),
  run("6-e-200-allowed", steps([text("ok", { headers: { "anthropic-ratelimit-unified-status": "allowed", "anthropic-ratelimit-unified-reset": String(reset) } })])),
  run("6-f-429-rejected-overage", steps([e429({ ...usageLimitHeaders(reset), "anthropic-ratelimit-unified-overage-status": "rejected", "anthropic-ratelimit-unified-overage-disabled-reason": "out_of_credits" })])),
  run("6-g-429-rejected-second-turn", steps([toolUse("Read", { file_path: "/etc/hostname" }), e429(usageLimitHeaders(reset))])),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  console.log("==", c.name, "| exit", c.exit_code, "| ms", c.ms, "| reqs", c.requests.map((r: any) => r.kind + ":" + r.answered).join(","), "| stderr", c.stderr.slice(0, 200));
  for (const l of c.lines) if (l.type !== "result" && l.subtype !== "init" && l.type !== "user") console.log("   ", JSON.stringify(l).slice(0, 900));
  if (res) { const { usage, modelUsage, model_usage_since_last_result, subagent_stats, ...rest } = res; console.log("   RESULT", JSON.stringify(rest)); }
}
