import { probe, save } from "../probe.js";
import { steps, text, httpError, hang, drop, type Reply } from "../anthropic-server.js";
const S = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "dontAsk"];
const NR = { CLAUDE_CODE_MAX_RETRIES: "0" };
const err = (name: string, reply: Reply, env: Record<string,string> = NR, timeoutMs = 60000) =>
  probe({ name, args: S, env, script: steps([reply]), timeoutMs });
const cases = await Promise.all([
  err("5-a-429", httpError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")),
  err("5-b-429-retry-after", httpError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", { "retry-after": "3600" })),
  err("5-c-529", httpError(529, "overloaded_error", "Overloaded")),
  err("5-d-500", httpError(500, "api_error", "Internal server error")),
  err("5-e-401", httpError(401, "authentication_error", "invalid x-api-key")),
  err("5-f-400-credit", httpError(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")),
  err("5-g-400-billing", httpError(400, "billing_error", "Your credit balance is too low to access the Anthropic API.")),
  err("5-h-hang", hang(), { ...NR, API_TIMEOUT_MS: "3000" }),
  err("5-i-hang-after-headers", hang(true), { ...NR, API_TIMEOUT_MS: "3000" }),
  err("5-j-drop", drop()),
  err("5-k-drop-after-headers", drop(true)),
  err("5-l-403", httpError(403, "permission_error", "Your API key does not have permission to use the specified resource.")),
  err("5-m-400-invalid", httpError(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum")),
  probe({ name: "5-n-529-recovers", args: S, env: {}, timeoutMs: 120000,
    script: steps([(r) => r.attempt < 2 ? httpError(529, "overloaded_error", "Overloaded") : text("Recovered.")]) }),
]);
for (const c of cases) save(c.name, c);
for (const c of cases) {
  const res = c.lines.find((l: any) => l.type === "result");
  console.log("==", c.name, "| exit", c.exit_code, "| ms", c.ms, "| after", c.ms_after_result, "| reqs", c.requests.map((r: any) => r.kind + ":" + r.answered + ":r" + r.retry).join(","), "| stderr", c.stderr.slice(0, 200));
  for (const l of c.lines) if (l.type !== "result" && l.subtype !== "init") console.log("   ", JSON.stringify(l).slice(0, 700));
  if (res) { const { usage, modelUsage, model_usage_since_last_result, subagent_stats, ...rest } = res; console.log("   RESULT", JSON.stringify(rest)); }
}
