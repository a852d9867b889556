/**
 * Smoke test: the REAL claude CLI (tests/real-claude/cli, pinned) against the
 * scripted Anthropic API. Skipped with a visible reason when the binary is not
 * installed (`npm ci --prefix tests/real-claude/cli`), except under CI=true
 * where a missing binary fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startScriptedApi, steps, text, toolUse, type ScriptedApi } from "./anthropic-server.js";
import { CLAUDE_BIN, claudeInstalled, newHome, runClaude, STREAM_ARGS } from "./run-claude.js";

const installed = claudeInstalled();
const inCI = process.env.CI === "true";
const skipReason = `real claude CLI not installed at ${CLAUDE_BIN} (run: npm ci --prefix tests/real-claude/cli)`;

if (!installed && !inCI) {
  // Visible in the test output, not just a silent skip.
  console.warn(`[real-claude] skipping: ${skipReason}`);
}

describe("real claude CLI availability", () => {
  it.runIf(inCI)("is installed under CI", () => {
    expect(installed, skipReason).toBe(true);
  });
});

describe.skipIf(!installed && !inCI)(`real claude CLI smoke${installed ? "" : ` (${skipReason})`}`, () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  const tmp = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  const serve = async (...args: Parameters<typeof startScriptedApi>): Promise<ScriptedApi> => {
    const api = await startScriptedApi(...args);
    cleanups.push(() => api.close());
    return api;
  };

  it("writes a.txt through a scripted Write and ends with a successful result", { timeout: 60_000 }, async () => {
    const api = await serve(steps([toolUse("Write", { file_path: "a.txt", content: "hello\n" }), text("Wrote a.txt.")]));
    const cwd = tmp("real-claude-cwd-");
    const home = tmp("real-claude-home-");
    const run = await runClaude({
      url: api.url,
      cwd,
      home,
      args: [...STREAM_ARGS, "--permission-mode", "dontAsk", "--allowedTools", "Read,Edit(a.txt)"],
      prompt: "Create a.txt containing hello.",
      timeoutMs: 50_000,
    });

    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(cwd, "a.txt"))).toBe(true);
    expect(readFileSync(join(cwd, "a.txt"), "utf8")).toBe("hello\n");
    expect(run.result).toMatchObject({ type: "result", subtype: "success", is_error: false, result: "Wrote a.txt.", permission_denials: [] });
    // The second main call carries the tool_result of the Write.
    const main = api.mainCalls();
    expect(main).toHaveLength(2);
    const last = main[1]!.body.messages.at(-1);
    expect(last.content.some((b: any) => b.type === "tool_result" && !b.is_error)).toBe(true);
  });

  it("reports a refused Write in permission_denials", { timeout: 60_000 }, async () => {
    const api = await serve(steps([toolUse("Write", { file_path: "sub/b.txt", content: "x\n" }), text("Could not.")]));
    const cwd = tmp("real-claude-cwd-");
    const run = await runClaude({
      url: api.url,
      cwd,
      home: newHome(),
      args: [...STREAM_ARGS, "--permission-mode", "dontAsk", "--allowedTools", "Read,Edit(a.txt)"],
      prompt: "Create sub/b.txt.",
      timeoutMs: 50_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(cwd, "sub", "b.txt"))).toBe(false);
    expect(run.result.is_error).toBe(false);
    expect(run.result.permission_denials).toEqual([
      expect.objectContaining({ tool_name: "Write", tool_input: expect.objectContaining({ file_path: join(cwd, "sub", "b.txt") }) }),
    ]);
    expect(run.events.some((e) => e.type === "system" && e.subtype === "permission_denied" && e.tool_name === "Write")).toBe(true);
  });
});
