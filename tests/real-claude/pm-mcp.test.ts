/**
 * The whole PM loop with real clients: the REAL `claude` CLI (test-only
 * install) as the PM, in `-p` mode, connected to `aipm mcp` through
 * `--mcp-config` (a temp file) and `--strict-mcp-config`; the scripted
 * Anthropic API plays the model and calls the aipm tools by their Claude Code
 * names (`mcp__aipm__<tool>`), deciding its next call from the tool results it
 * receives; aipm runs command tasks meanwhile. The transcript the API server
 * receives shows the summary arriving and the PM continuing from it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../helpers.js";
import { readJson, setup } from "../runtime-helpers.js";
import { startScriptedApi, text, toolUse, type Reply, type ScriptRequest, type ScriptedApi } from "./anthropic-server.js";
import { CLAUDE_BIN, claudeInstalled, runClaude, STREAM_ARGS } from "./run-claude.js";

const installed = claudeInstalled();
const inCI = process.env.CI === "true";
const why = `real claude CLI not installed at ${CLAUDE_BIN} (npm ci --prefix tests/real-claude/cli)`;

const apis: ScriptedApi[] = [];
afterEach(async () => {
  while (apis.length) await apis.pop()!.close();
});

const TOOL_NAMES = ["explain", "kill", "launch", "logs", "pause", "retry", "status", "submit", "wait"];

const PLAN = `project: p
root: ./ws
orders:
  - id: O1
    title: PM over MCP
    tasks:
      - {id: A, title: a, command: "echo a", target_files: [a]}
      - {id: B, title: b, command: "test -f fixed || { echo broken; exit 3; }", target_files: [b], max_attempts: 1}
      - {id: C, title: c, command: "echo c", target_files: [c], deps: [A]}
`;

/** The text of the latest tool_result in a request (Claude Code may append a system reminder after it). */
function latestResult(body: any): { text: string; is_error?: boolean } | null {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const blocks = Array.isArray(msgs[i]?.content) ? msgs[i].content : [];
    const r = blocks.findLast((b: any) => b?.type === "tool_result");
    if (!r) continue;
    const text = typeof r.content === "string" ? r.content : Array.isArray(r.content) ? r.content.map((c: any) => c?.text ?? "").join("") : "";
    return { text, is_error: r.is_error };
  }
  return null;
}

const resultText = (req: { body: any }): string => latestResult(req.body)?.text ?? "";

describe.skipIf(!installed && !inCI)(`the real claude CLI as the PM, over aipm mcp${installed ? "" : ` (${why})`}`, () => {
  it("submits, waits, reads a failure from the summary, fixes and retries, waits again: the summaries arrive in the same conversation", { timeout: 120_000 }, async () => {
    const ctx = setup();
    const root = join(ctx.dir, "ws");
    const decisions: string[] = [];
    // The model: each step reads the previous tool result, as a PM would.
    const script = (req: ScriptRequest): Reply => {
      const last = resultText(req);
      switch (req.turn) {
        case 0:
          // Claude Code lists MCP tools by name only (deferred); their schemas load through ToolSearch.
          return toolUse("ToolSearch", { query: `select:${TOOL_NAMES.map((n) => `mcp__aipm__${n}`).join(",")}` });
        case 1:
          return toolUse("mcp__aipm__submit", { plan: PLAN });
        case 2:
          return toolUse("mcp__aipm__wait", { project: "p", order: "O1" });
        case 3: {
          const summary = JSON.parse(last);
          const f = summary.failed.find((x: any) => x.task === "B");
          decisions.push(`saw ${f?.task} ${f?.failure_kind}: ${f?.next}`);
          writeFileSync(join(root, "fixed"), ""); // the PM's fix
          return toolUse("mcp__aipm__retry", { task: f.task });
        }
        case 4:
          return toolUse("mcp__aipm__wait", {});
        default: {
          const summary = JSON.parse(last);
          decisions.push(`done=${summary.done}`);
          return text(summary.done ? "Order O1 is done." : "Still failing.");
        }
      }
    };
    const api = await startScriptedApi(script);
    apis.push(api);
    const mcpConfig = join(ctx.dir, "mcp.json");
    writeFileSync(
      mcpConfig,
      JSON.stringify({ mcpServers: { aipm: { command: process.execPath, args: [BIN, "--db", ctx.db, "mcp"], env: ctx.env } } }),
    );
    const run = await runClaude({
      url: api.url,
      cwd: ctx.dir,
      args: [...STREAM_ARGS, "--mcp-config", mcpConfig, "--strict-mcp-config", "--allowedTools", "mcp__aipm"],
      prompt: "Run the order in plan.yaml with aipm and tell me when it is done.",
      env: { AIPM_TEST_TAG: ctx.tag },
      timeoutMs: 100_000,
    });
    const main = api.mainCalls();
    const diag = `exit ${run.code}; stderr: ${run.stderr.slice(0, 2000)}; calls: ${main.map((c) => c.answered).join(" | ")}`;
    expect(run.timedOut, diag).toBe(false);
    expect(run.result?.is_error, diag).toBe(false);

    // The tools as the model sees them: named mcp__aipm__<tool>, and what they cost per turn.
    const tools: any[] = main.at(-1)!.body.tools;
    const ours = tools.filter((t) => typeof t.name === "string" && t.name.startsWith("mcp__aipm__"));
    expect(ours.map((t) => t.name).sort(), diag).toEqual(
      ["explain", "kill", "launch", "logs", "pause", "retry", "status", "submit", "wait"].map((n) => `mcp__aipm__${n}`),
    );
    const defChars = JSON.stringify(ours).length;
    expect(defChars / 4).toBeLessThan(800);

    // The transcript: each wait's tool_result (what the API received) is the summary; the PM acted on it.
    const [afterWait1, afterWait2] = [main[3]!, main[5]!];
    expect(latestResult(afterWait1.body)?.is_error).not.toBe(true);
    const first = JSON.parse(resultText(afterWait1));
    expect(first).toMatchObject({ project: "p", order: "O1", done: false, counts: { DONE: 2, FAILED: 1 } });
    expect(first.failed).toEqual([expect.objectContaining({ task: "B", failure_kind: "exit_code", next: expect.stringContaining("aipm retry B") })]);
    const second = JSON.parse(resultText(afterWait2));
    expect(second).toMatchObject({ done: true, failed: [], orders: [{ project: "p", order: "O1", done: true }] });
    expect(decisions).toEqual(["saw B exit_code: aipm logs B --tail 20, then fix and aipm retry B", "done=true"]);
    expect(run.result.result).toBe("Order O1 is done.");
    const st = await readJson(ctx, ["status", "p"]);
    expect(st.tasks.map((t: any) => `${t.task}:${t.status}`)).toEqual(["A:DONE", "B:DONE", "C:DONE"]);

    // The measured figures (reported by the test run; docs/pm-agent.md quotes them).
    const outputChars = main.slice(2).reduce((n, c) => n + resultText(c).length, 0);
    console.info(
      `[pm-mcp] ${main.length} requests; aipm tool definitions (loaded by ToolSearch) ${defChars} chars (~${Math.round(defChars / 4)} tokens); aipm tool results ${outputChars} chars (~${Math.round(outputChars / 4)} tokens)`,
    );
  });

  it("the CLI loop: Bash runs import + parallel-launch, then wait --json; the summary is the Bash tool_result", { timeout: 120_000 }, async () => {
    const ctx = setup();
    const root = join(ctx.dir, "ws");
    writeFileSync(join(ctx.dir, "plan.yaml"), PLAN);
    // `aipm` on the PM's PATH: the built binary on this test's database.
    const binDir = join(ctx.dir, "bin");
    mkdirSync(binDir);
    writeFileSync(join(binDir, "aipm"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" --db "${ctx.db}" "$@"\n`, { mode: 0o755 });
    const script = (req: ScriptRequest): Reply => {
      switch (req.turn) {
        case 0:
          return toolUse("Bash", { command: "aipm import plan.yaml && aipm parallel-launch p O1 --summary", description: "start the order" });
        case 1:
          return toolUse("Bash", { command: "aipm wait p O1 --json", description: "wait for the order" });
        case 2: {
          const f = JSON.parse(resultText(req).trim().split("\n").at(-1)!).failed[0];
          writeFileSync(join(root, "fixed"), "");
          return toolUse("Bash", { command: `aipm retry ${f.task} && aipm wait p O1 --json`, description: "retry and wait" });
        }
        default:
          return text(resultText(req).includes('"done":true') ? "Order O1 is done." : "Still failing.");
      }
    };
    const api = await startScriptedApi(script);
    apis.push(api);
    const run = await runClaude({
      url: api.url,
      cwd: ctx.dir,
      args: [...STREAM_ARGS, "--strict-mcp-config", "--permission-mode", "dontAsk", "--allowedTools", "Bash(aipm *)"],
      prompt: "Run the order in plan.yaml with aipm.",
      env: { ...ctx.env, PATH: `${binDir}:${ctx.env.PATH}` },
      timeoutMs: 100_000,
    });
    const main = api.mainCalls();
    const diag = `exit ${run.code}; stderr: ${run.stderr.slice(0, 2000)}; calls: ${main.map((c) => c.answered).join(" | ")}`;
    expect(run.result?.result, diag).toBe("Order O1 is done.");
    const started = resultText(main[1]!);
    expect(started).toMatch(/imported p \(O1\): 3 added/);
    const waited = resultText(main[2]!);
    const summary = JSON.parse(waited.trim().split("\n").at(-1)!);
    expect(summary).toMatchObject({ project: "p", order: "O1", done: false, failed: [{ task: "B", failure_kind: "exit_code" }] });
    const again = resultText(main[3]!);
    expect(again).toContain('"done":true');
    const outputChars = [started, waited, again].reduce((n, t) => n + t.length, 0);
    console.info(`[pm-cli] ${main.length} requests; Bash tool results ${outputChars} chars (~${Math.round(outputChars / 4)} tokens)`);
  });
});
