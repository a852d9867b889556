/**
 * aipm driving the REAL Claude Code CLI (tests/real-claude/cli, pinned) with
 * no AIPM_AGENT_CMD: the default agent command with the permissions aipm
 * derives from each task, against a scripted Anthropic Messages API on
 * 127.0.0.1 (./anthropic-server.ts). Outcomes are read from `status --json`,
 * `wait --json`, the database and the files on disk.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { aipm, importPlan, readJson, setup, type Ctx } from "../runtime-helpers.js";
import { store } from "../helpers.js";
import { httpError, startScriptedApi, text, toolUse, usageLimitHeaders, type Reply, type ScriptRequest, type ScriptedApi } from "./anthropic-server.js";
import { CLAUDE_BIN, claudeInstalled } from "./run-claude.js";
import { dirname } from "node:path";

const installed = claudeInstalled();
const inCI = process.env.CI === "true";
const why = `real claude CLI not installed at ${CLAUDE_BIN} (npm ci --prefix tests/real-claude/cli)`;
if (!installed && !inCI) console.warn(`[real-claude] skipping: ${why}`);

const apis: ScriptedApi[] = [];
afterEach(async () => {
  while (apis.length) await apis.pop()!.close();
});

/** Which task a conversation belongs to: aipm's prompt starts with `# Task <id>`. */
export function taskOf(body: any): string | null {
  const first = Array.isArray(body?.messages) ? body.messages[0] : null;
  const content = first?.content;
  const textOf = typeof content === "string" ? content : Array.isArray(content) ? content.map((b: any) => b?.text ?? "").join("\n") : "";
  return /# Task (\S+)/.exec(textOf)?.[1] ?? null;
}

/** A script per task (by the first message of the conversation). */
function byTask(scripts: Record<string, (req: ScriptRequest) => Reply>): (req: ScriptRequest) => Reply {
  return (req) => {
    const task = taskOf(req.body);
    const s = task ? scripts[task] : undefined;
    return s ? s(req) : text("VERDICT: APPROVE");
  };
}

/** The reply for each turn of a conversation (`turn` = assistant turns so far). */
function turns(list: Reply[], last = "Done."): (req: ScriptRequest) => Reply {
  return (req) => list[req.turn] ?? text(last);
}

async function realSetup(script: (req: ScriptRequest) => Reply, extra: Record<string, string> = {}): Promise<{ ctx: Ctx; api: ScriptedApi; root: string }> {
  const api = await startScriptedApi(script);
  apis.push(api);
  const ctx = setup({ AIPM_RESULT_GRACE_S: "3", AIPM_STALL_KILL_S: "60", AIPM_STALL_WARN_S: "30", ...extra });
  const home = join(ctx.dir, "home");
  mkdirSync(home, { recursive: true });
  Object.assign(ctx.env, {
    PATH: `${dirname(CLAUDE_BIN)}:${ctx.env.PATH}`,
    HOME: home,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: "sk-ant-test-key",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_MAX_RETRIES: "0",
    ...extra,
  });
  return { ctx, api, root: join(ctx.dir, "ws") };
}

function plan(tasks: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return { project: "p", root: "./ws", orders: [{ id: "O1", title: "Real workers", tasks, ...extra }] };
}

async function runOrder(ctx: Ctx, args: string[] = []): Promise<{ code: number; summary: any; stderr: string }> {
  const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O1", "--wait", ...args]);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  return { code: r.code, summary: JSON.parse(r.stdout), stderr: r.stderr };
}

async function statusOf(ctx: Ctx, task: string): Promise<any> {
  const s = await readJson(ctx, ["status", "p"]);
  return s.tasks.find((t: any) => t.task === task);
}

describe.skipIf(!installed && !inCI)(`aipm with the real claude CLI${installed ? "" : ` (${why})`}`, () => {
  it.runIf(inCI)("is installed under CI", () => expect(installed, why).toBe(true));

  it("edits its target file and ends DONE; an edit outside its files is refused: permission_denied naming the path", { timeout: 90_000 }, async () => {
    let root = "";
    const { ctx } = await realSetup(
      byTask({
        OK: (req) => turns([toolUse("Write", { file_path: join(root, "src/a.ts"), content: "export const a = 1;\n" }), text("Wrote src/a.ts.")])(req),
        STRAY: (req) => turns([toolUse("Write", { file_path: join(root, "b.ts"), content: "x\n" }), text("Tried.")])(req),
      }),
    );
    root = join(ctx.dir, "ws");
    await importPlan(
      ctx,
      plan([
        { id: "OK", prompt: "Write src/a.ts", target_files: ["src/a.ts"], review: false },
        { id: "STRAY", prompt: "Write b.ts", target_files: ["c.ts"], review: false },
      ]),
    );
    const { code, summary } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(readFileSync(join(root, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(existsSync(join(root, "b.ts"))).toBe(false);
    expect(await statusOf(ctx, "OK")).toMatchObject({ status: "DONE" });
    const stray = await statusOf(ctx, "STRAY");
    expect(stray).toMatchObject({ status: "FAILED", failure_kind: "permission_denied", attempt: 1 });
    expect(stray.error).toContain(join(root, "b.ts"));
    expect(summary.failed).toEqual([expect.objectContaining({ task: "STRAY", failure_kind: "permission_denied" })]);
  });
});
