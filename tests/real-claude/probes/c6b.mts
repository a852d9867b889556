import { probe, save } from "../probe.js";
import { steps, text, httpError, usageLimitHeaders } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const NR = { CLAUDE_CODE_MAX_RETRIES: "0" };
const reset = Math.floor(Date.now() / 1000) + 3600;
const e429 = httpError(429, "rate_limit_error", "This request would exceed your account's rate limit. Please try again later.", usageLimitHeaders(reset));
const OA = { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-testtoken" };
const SUB = { CLAUDE_CODE_SUBSCRIPTION_TYPE: "max", CLAUDE_CODE_RATE_LIMIT_TIER: "default_claude_max_20x" };
const warnH = { "anthropic-ratelimit-unified-status": "allowed_warning", "anthropic-ratelimit-unified-reset": String(reset), "anthropic-ratelimit-unified-representative-claim": "five_hour", "anthropic-ratelimit-unified-5h-utilization": "0.95", "anthropic-ratelimit-unified-5h-reset": String(reset), "anthropic-ratelimit-unified-5h-status": "allowed_warning" };
const cases = await Promise.all([
  probe({ name: "6-h-oauth-429", args: S, env: { ...NR, ...OA }, unsetEnv: ["ANTHROPIC_API_KEY"], script: steps([e429]), apiOptions: { log: false } }),
  probe({ name: "6-i-oauth-sub-429", args: S, env: { ...NR, ...OA, ...SUB }, unsetEnv: ["ANTHROPIC_API_KEY"], script: steps([e429]) }),
  probe({ name: "6-j-apikey-sub-429", args: S, env: { ...NR, ...SUB }, script: steps([e429]) }),
  probe({ name: "6-k-oauth-sub-200-warning", args: S, env: { ...NR, ...OA, ...SUB }, unsetEnv: ["ANTHROPIC_API_KEY"], script: steps([text("ok", { headers: warnH })]) }),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  console.log("==", c.name, "| exit", c.exit_code, "| ms", c.ms, "| reqs", c.requests.map((r: any) => r.method + " " + r.path + " " + r.kind + ":" + r.answered).join(", "), "| stderr", c.stderr.slice(0, 300));
  for (const l of c.lines) if (l.type !== "result" && l.type !== "user") console.log("   ", JSON.stringify(l.subtype === "init" ? { init: 1, apiKeySource: l.apiKeySource } : l).slice(0, 900));
  if (res) { const { usage, modelUsage, model_usage_since_last_result, subagent_stats, ...rest } = res; console.log("   RESULT", JSON.stringify(rest)); }
}
