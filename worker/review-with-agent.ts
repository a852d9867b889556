/**
 * The default review command (used when `$AIPM_REVIEW_CMD` is not set):
 *
 *   node dist/worker/review-with-agent.js [--model M]   < review prompt
 *
 * It runs the agent command (`$AIPM_AGENT_CMD`, default Claude Code in
 * stream-json) with the review prompt, passes the agent's output through to
 * its own (so the review log shows it and counts as heartbeats), and turns
 * the agent's final answer into an exit code:
 *
 *   0   the last `VERDICT:` line says APPROVE
 *   1   it says REJECT, or there is none: the answer is the feedback
 *   75  the reviewer itself failed (error result, crash, rate limit): no
 *       verdict — aipm runs the review again later (EX_TEMPFAIL)
 */
import { spawn } from "node:child_process";
import { basename } from "node:path";
import { DEFAULT_AGENT_CMD, defaultAgentArgv, expandTemplate, parseTemplate } from "../src/runtime/task-command.js";
import { AgentStream } from "../src/agent/stream-json.js";
import { agentOutcome } from "../src/agent/agent-outcome.js";
import { parseVerdict, REVIEW_TEMPFAIL } from "../src/agent/verdict.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const m = args.indexOf("--model");
  const model = m >= 0 ? (args[m + 1] ?? null) : null;
  const prompt = await readStdin();
  const template = parseTemplate(process.env.AIPM_AGENT_CMD, "AIPM_AGENT_CMD");
  const env = process.env;
  // The read-only settings aipm wrote for this review run (src/agent/permissions.ts reviewerRules).
  const settings = env.AIPM_AGENT_SETTINGS ?? "";
  const { argv, promptPlaced } =
    template === null && settings
      ? { argv: defaultAgentArgv(model || null, { settingsPath: settings, maxTurns: null, maxBudgetUsd: null, resumeSession: null }), promptPlaced: false }
      : expandTemplate(template ?? DEFAULT_AGENT_CMD, {
          prompt,
          model: model || null,
          task: env.AIPM_TASK ?? "",
          order: env.AIPM_ORDER ?? "",
          project: env.AIPM_PROJECT ?? "",
          settings,
        });
  // A user's own Claude command that does not place {settings} would give the reviewer the worker's
  // permissions: the read-only ones are added at the end (the CLI takes the last value of a flag).
  if (template !== null && settings && !template.some((a) => a.includes("{settings}")) && basename(argv[0] ?? "") === "claude") {
    argv.push("--permission-mode", "dontAsk", "--settings", settings, "--setting-sources", "");
  }
  const stream = new AgentStream();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  // A reviewer that gave its result and does not exit is stopped after a grace period.
  const grace = Number(env.AIPM_RESULT_GRACE_S ?? "10");
  const graceMs = (Number.isFinite(grace) && grace >= 0 ? grace : 10) * 1000;
  let graceTimer: NodeJS.Timeout | null = null;
  let stoppedAfterResult = false;
  let partial = "";
  let text = "";
  const onData = (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (text.length < 100_000) text += chunk.toString("utf8");
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) stream.push(l);
    if (stream.summary.result && !graceTimer) {
      graceTimer = setTimeout(() => {
        stoppedAfterResult = true;
        child.kill("SIGKILL");
      }, graceMs);
      graceTimer.unref();
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", (c: Buffer) => process.stdout.write(c));
  child.stdin.on("error", () => {});
  child.stdin.end(promptPlaced ? "" : prompt);
  const exit = await new Promise<number | null>((resolve) => {
    child.on("error", (err) => {
      process.stdout.write(`[aipm-review] cannot start the reviewer: ${err.message}\n`);
      resolve(null);
    });
    child.on("close", (c) => resolve(c));
  });
  if (graceTimer) clearTimeout(graceTimer);
  // Stopped after its result: the result stands.
  const code = stoppedAfterResult ? 0 : exit;
  if (partial) stream.push(partial);
  const r = stream.summary.result;
  const limited = agentOutcome({
    base: code === 0 ? { kind: "success", exitCode: 0 } : { kind: "failed", exitCode: code, signal: null, error: `exit code ${code}`, failureKind: "exit_code" },
    agent: stream.summary,
    now: Date.now(),
    rateLimitWaitS: Number(process.env.AIPM_RATE_LIMIT_WAIT_S) || 300,
  });
  if (limited.kind === "failed" && limited.failureKind === "rate_limit") {
    process.stdout.write(`[aipm-review] rate limited until ${new Date(limited.retryAt ?? Date.now()).toISOString()}\n`);
    return REVIEW_TEMPFAIL;
  }
  // A reviewer that does not speak stream-json: its whole output is the answer.
  const answer =
    r && !r.is_error && r.subtype === "success" ? (r.result ?? "") : !stream.summary.streaming && code === 0 ? text : null;
  if (code === null || answer === null) {
    process.stdout.write(`[aipm-review] the reviewer failed (exit ${code ?? "none"}${r ? `, ${r.subtype}` : ", no result"}): no verdict\n`);
    return REVIEW_TEMPFAIL;
  }
  const verdict = parseVerdict(answer);
  process.stdout.write(`[aipm-review] verdict: ${verdict.approved ? "APPROVE" : verdict.found ? "REJECT" : "none given (taken as REJECT)"}\n`);
  return verdict.approved ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stdout.write(`[aipm-review] ${(err as Error).message}\n`);
    process.exit(REVIEW_TEMPFAIL);
  },
);
