/**
 * aipm driving the REAL Claude Code CLI (tests/real-claude/cli, pinned) with
 * no AIPM_AGENT_CMD: the default agent command with the permissions aipm
 * derives from each task, against a scripted Anthropic Messages API on
 * 127.0.0.1 (./anthropic-server.ts). Outcomes are read from `status --json`,
 * `wait --json`, the database and the files on disk.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { aipm, importPlan, readJson, setup, type Ctx } from "../runtime-helpers.js";
import { store } from "../helpers.js";
import {
  assistantTurns,
  hang,
  httpError,
  lastToolResults,
  startScriptedApi,
  text,
  toolUse,
  usageLimitHeaders,
  type Reply,
  type ScriptRequest,
  type ScriptedApi,
} from "./anthropic-server.js";
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

function firstText(body: any): string {
  const first = Array.isArray(body?.messages) ? body.messages[0] : null;
  const content = first?.content;
  return typeof content === "string" ? content : Array.isArray(content) ? content.map((b: any) => b?.text ?? "").join("\n") : "";
}

/** Which task a conversation belongs to: aipm's prompt starts with `# Task <id>`, a review's with `# Review of task <id>`. */
function taskOf(body: any): { task: string; review: boolean } | null {
  const t = firstText(body);
  const review = /# Review of task (\S+)/.exec(t);
  if (review) return { task: review[1]!, review: true };
  const task = /# Task (\S+)/.exec(t);
  return task ? { task: task[1]!, review: false } : null;
}

type Step = (req: ScriptRequest) => Reply | Promise<Reply>;

/** A script per task (by the first message of the conversation); reviews by `review:<task>`; else approve. */
function byTask(scripts: Record<string, Step>): Step {
  return (req) => {
    const who = taskOf(req.body);
    const s = who ? scripts[who.review ? `review:${who.task}` : who.task] : undefined;
    return s ? s(req) : text("Looks right.\nVERDICT: APPROVE");
  };
}

/** Polls until `cond` holds (or throws after `ms`). */
async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rowsOf(ctx: Ctx, sql: string, ...args: unknown[]): Promise<any[]> {
  const s = await store(ctx.db);
  try {
    return s.sqlite.prepare(sql).all(...args) as any[];
  } finally {
    s.close();
  }
}

/** The reply for each turn of a conversation (`turn` = assistant turns so far). */
function turns(list: Reply[], last = "Done."): Step {
  return (req) => list[req.turn] ?? text(last);
}

async function realSetup(script: Step, extra: Record<string, string> = {}): Promise<{ ctx: Ctx; api: ScriptedApi; root: string }> {
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

function plan(tasks: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}, root = "./ws") {
  return { project: "p", root, orders: [{ id: "O1", title: "Real workers", tasks, ...extra }] };
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

  it("edits its target file and ends DONE (progress reported, logs readable); an edit outside its files is refused: permission_denied naming the path", { timeout: 90_000 }, async () => {
    let root = "";
    const { ctx } = await realSetup(
      byTask({
        OK: (req) =>
          turns([
            toolUse("Bash", { command: 'aipm progress 1/2 "writing src/a.ts"', description: "report progress" }),
            toolUse("Write", { file_path: join(root, "src/a.ts"), content: "export const a = 1;\n" }),
            text("Wrote src/a.ts."),
          ])(req),
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
    expect(await statusOf(ctx, "OK")).toMatchObject({ status: "DONE", progress: { done: 1, total: 2, label: "writing src/a.ts" } });
    const stray = await statusOf(ctx, "STRAY");
    // Not retried: the same prompt would meet the same wall.
    expect(stray).toMatchObject({ status: "FAILED", failure_kind: "permission_denied", attempt: 1 });
    expect(stray.error).toContain(`Write ${join(root, "b.ts")}`);
    expect(summary.failed).toEqual([expect.objectContaining({ task: "STRAY", failure_kind: "permission_denied" })]);
    const [run] = await rowsOf(ctx, "SELECT denials, edited_files FROM runs WHERE task_id = 'STRAY'");
    expect(JSON.parse(run.denials)).toEqual([{ tool: "Write", target: join(root, "b.ts") }]);
    // logs: one readable line per event, never raw JSON.
    const logs = await aipm(ctx, ["logs", "OK"]);
    expect(logs.stdout).toMatch(/^session \w+ started/m);
    expect(logs.stdout).toContain(`> Write ${join(root, "src/a.ts")}`);
    expect(logs.stdout).toMatch(/^result \(success, \d+ turns, \$[\d.]+\): Wrote src\/a\.ts\.$/m);
    expect(logs.stdout).not.toContain('{"');
    const strayLogs = await aipm(ctx, ["logs", "STRAY"]);
    expect(strayLogs.stdout).toContain(`permission denied: Write ${join(root, "b.ts")}`);
  });

  it("runs the commands the plan allows and nothing else: a Bash command outside the allow-list is refused", { timeout: 90_000 }, async () => {
    const { ctx, api } = await realSetup(
      byTask({
        SH: turns([toolUse("Bash", { command: "echo allowed-ran" }), toolUse("Bash", { command: "rm -rf precious" }), text("Done.")]),
      }),
    );
    mkdirSync(join(ctx.dir, "ws", "precious"), { recursive: true });
    await importPlan(ctx, plan([{ id: "SH", prompt: "clean up", target_files: ["out.txt"], allowed_tools: ["Bash(echo *)"], review: false }]));
    const { code } = await runOrder(ctx);
    expect(code).toBe(1);
    expect(existsSync(join(ctx.dir, "ws", "precious"))).toBe(true);
    const t = await statusOf(ctx, "SH");
    expect(t).toMatchObject({ status: "FAILED", failure_kind: "permission_denied" });
    expect(t.error).toContain("Bash rm -rf precious");
    // The allowed command ran: its tool_result came back without an error.
    const afterEcho = api.mainCalls().find((c) => assistantTurns(c.body) === 1)!;
    expect(lastToolResults(afterEcho.body)[0]).toMatchObject({ is_error: false });
    expect(JSON.stringify(lastToolResults(afterEcho.body)[0]!.content)).toContain("allowed-ran");
  });

  it("429 (both wordings), 529, 500 and a request timeout spend no attempt: each task is DONE once the API answers", { timeout: 120_000 }, async () => {
    // Each task's first request fails; every later one is answered.
    const failed = new Set<string>();
    const failFirst = (r: Reply): Step => (req) => {
      const who = taskOf(req.body)!.task;
      if (failed.has(who)) return text("Recovered.");
      failed.add(who);
      return r;
    };
    const { ctx } = await realSetup(
      byTask({
        R1: failFirst(httpError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")),
        R2: failFirst(httpError(429, "rate_limit_error", "This request would exceed your account's rate limit. Please try again later.")),
        O: failFirst(httpError(529, "overloaded_error", "Overloaded")),
        S: failFirst(httpError(500, "api_error", "Internal server error")),
        T: failFirst(hang()),
      }),
      { AIPM_AGENT_API_TIMEOUT_S: "2" },
    );
    const tasks = ["R1", "R2", "O", "S", "T"].map((id) => ({ id, prompt: `answer ${id}`, review: false, max_attempts: 1 }));
    await importPlan(ctx, plan(tasks));
    const { code, summary } = await runOrder(ctx, ["--max-workers", "5"]);
    expect(summary.failed).toEqual([]);
    expect(code).toBe(0);
    const runs = await rowsOf(ctx, "SELECT task_id, attempt, outcome FROM runs ORDER BY task_id, attempt");
    const byTaskId = (id: string) => runs.filter((r) => r.task_id === id).map((r) => r.outcome);
    expect(byTaskId("R1")).toEqual(["rate_limit", "succeeded"]);
    expect(byTaskId("R2")).toEqual(["rate_limit", "succeeded"]);
    expect(byTaskId("O")).toEqual(["api_error", "succeeded"]);
    expect(byTaskId("S")).toEqual(["api_error", "succeeded"]);
    expect(byTaskId("T")).toEqual(["api_error", "succeeded"]);
    // A plain 429 holds only its own task; nothing held the project.
    const events = await rowsOf(ctx, "SELECT kind FROM events WHERE kind = 'project_rate_limited'");
    expect(events).toEqual([]);
  });

  it("a rejected usage limit holds every agent task of the project until the reset (one event); command tasks go on", { timeout: 120_000 }, async () => {
    const reset = Math.floor(Date.now() / 1000) + 6;
    const started: Record<string, number> = {};
    let limited = false;
    const { ctx } = await realSetup(
      byTask({
        U1: (req) => {
          started.U1 ??= Date.now();
          if (limited) return text("U1 done.");
          limited = true;
          return { ...httpError(429, "rate_limit_error", "usage limit"), headers: usageLimitHeaders(reset) };
        },
        U2: () => {
          started.U2 ??= Date.now();
          return text("U2 done.");
        },
      }),
      // Usage limits are reported to claude.ai logins (OAuth), not to API keys.
      { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test-token" },
    );
    delete ctx.env.ANTHROPIC_API_KEY;
    await importPlan(
      ctx,
      plan([
        { id: "U1", prompt: "first", review: false, max_attempts: 1, priority: "P0" },
        { id: "U2", prompt: "second", review: false, max_attempts: 1, priority: "P1" },
        { id: "CMD", command: ["true"], priority: "P2" },
      ]),
    );
    const { code } = await runOrder(ctx, ["--max-workers", "1"]);
    expect(code).toBe(0);
    expect(started.U2).toBeGreaterThanOrEqual(reset * 1000);
    const cmd = await statusOf(ctx, "CMD");
    expect(Date.parse(cmd.finished_at)).toBeLessThan(reset * 1000);
    const held = await rowsOf(ctx, "SELECT task_id, data FROM events WHERE kind = 'project_rate_limited'");
    expect(held).toHaveLength(1);
    expect(JSON.parse(held[0].data).until).toBe(new Date(reset * 1000).toISOString());
    expect(await statusOf(ctx, "U1")).toMatchObject({ status: "DONE", attempt: 2 });
  });

  it("an authentication error fails at once as auth; max turns and a budget fail as max_turns and budget; none is retried", { timeout: 120_000 }, async () => {
    const { ctx } = await realSetup(
      byTask({
        AUTH: () => httpError(401, "authentication_error", "invalid x-api-key"),
        TURNS: () => toolUse("Bash", { command: "echo again" }),
        BUDGET: () => ({ ...toolUse("Bash", { command: "echo more" }), usage: { input_tokens: 50_000, output_tokens: 5_000 } }),
      }),
    );
    await importPlan(
      ctx,
      plan([
        { id: "AUTH", prompt: "a", review: false },
        { id: "TURNS", prompt: "t", review: false, max_turns: 2 },
        { id: "BUDGET", prompt: "b", review: false, max_budget_usd: 0.01 },
      ]),
    );
    const { code, summary } = await runOrder(ctx, ["--max-workers", "3"]);
    expect(code).toBe(1);
    const kinds = Object.fromEntries(summary.failed.map((f: any) => [f.task, f.failure_kind]));
    expect(kinds).toEqual({ AUTH: "auth", TURNS: "max_turns", BUDGET: "budget" });
    const runs = await rowsOf(ctx, "SELECT task_id, COUNT(*) AS n FROM runs GROUP BY task_id ORDER BY task_id");
    expect(runs).toEqual([
      { task_id: "AUTH", n: 1 },
      { task_id: "BUDGET", n: 1 },
      { task_id: "TURNS", n: 1 },
    ]);
  });

  it("an attempt killed for silence is resumed: the next run continues the same session, the API sees the earlier turns", { timeout: 120_000 }, async () => {
    let root = "";
    let hung = false;
    const { ctx, api } = await realSetup(
      byTask({
        RES: (req) => {
          if (req.turn === 0) return toolUse("Write", { file_path: join(root, "half.txt"), content: "first half\n" });
          // The first time the model is asked to go on, it never answers: aipm kills the silent worker.
          if (req.turn === 1 && !hung) {
            hung = true;
            return hang();
          }
          return text("Finished after resuming.");
        },
      }),
      { AIPM_STALL_KILL_S: "4", AIPM_STALL_WARN_S: "2", AIPM_AGENT_API_TIMEOUT_S: "120" },
    );
    root = join(ctx.dir, "ws");
    await importPlan(ctx, plan([{ id: "RES", prompt: "write both halves", target_files: ["half.txt"], review: false, max_attempts: 2 }]));
    const { code } = await runOrder(ctx);
    expect(code).toBe(0);
    const t = await statusOf(ctx, "RES");
    expect(t).toMatchObject({ status: "DONE", attempt: 2, resumed_attempts: [2] });
    const runs = await rowsOf(ctx, "SELECT attempt, outcome, session_id, resumed_from FROM runs WHERE task_id = 'RES' ORDER BY attempt");
    expect(runs[0]).toMatchObject({ outcome: "stalled" });
    expect(runs[1].resumed_from).toBe(runs[0].session_id);
    // The resumed run's first request carries the first run's turns and the message that says why it goes on.
    const resumed = api.mainCalls().filter((c) => taskOf(c.body)?.task === "RES").at(-1)!;
    expect(assistantTurns(resumed.body)).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(resumed.body.messages)).toContain("first half");
    expect(JSON.stringify(resumed.body.messages)).toContain("was interrupted (stalled");
    expect(readFileSync(join(root, "half.txt"), "utf8")).toBe("first half\n");
  });

  it("a root whose name holds gitignore's special characters: its own file is writable, the look-alike sibling is not", { timeout: 90_000 }, async () => {
    let root = "";
    const { ctx } = await realSetup(
      byTask({
        BR: (req) =>
          turns([
            toolUse("Write", { file_path: join(root, "..", "app1", "src", "a.ts"), content: "sibling\n" }),
            toolUse("Write", { file_path: join(root, "src", "a.ts"), content: "own\n" }),
            text("Done."),
          ])(req),
      }),
    );
    root = join(ctx.dir, "app[12]");
    mkdirSync(join(ctx.dir, "app1", "src"), { recursive: true });
    await importPlan(ctx, plan([{ id: "BR", prompt: "write", target_files: ["src/a.ts"], review: false }], {}, "./app[12]"));
    await runOrder(ctx);
    expect(readFileSync(join(root, "src", "a.ts"), "utf8")).toBe("own\n");
    expect(existsSync(join(ctx.dir, "app1", "src", "a.ts"))).toBe(false);
    const t = await statusOf(ctx, "BR");
    expect(t).toMatchObject({ failure_kind: "permission_denied" });
    expect(t.error).toContain(join(ctx.dir, "app1", "src", "a.ts"));
    expect(t.error).not.toContain(join(root, "src", "a.ts"));
  });

  it("the reviewer reads but cannot edit, even the task's own files, even with a user's AIPM_AGENT_CMD that accepts edits", { timeout: 120_000 }, async () => {
    for (const custom of [false, true]) {
      await reviewerCannotEdit(custom);
    }
  });

  async function reviewerCannotEdit(custom: boolean): Promise<void> {
    let root = "";
    const { ctx } = await realSetup(
      byTask({
        V: turns([toolUse("Write", { file_path: join(root, "v.txt"), content: "by the worker\n" }), text("Wrote v.txt.")]),
        "review:V": turns([
          toolUse("Write", { file_path: join(root, "v.txt"), content: "by the reviewer\n" }),
          toolUse("Read", { file_path: join(root, "v.txt") }),
          text("Fine.\nVERDICT: APPROVE"),
        ]),
      }),
    );
    root = join(ctx.dir, "ws");
    if (custom) ctx.env.AIPM_AGENT_CMD = JSON.stringify(["claude", "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits"]);
    await importPlan(ctx, plan([{ id: "V", prompt: "write v.txt", target_files: ["v.txt"] }]));
    const { code } = await runOrder(ctx);
    expect(code).toBe(0);
    expect(readFileSync(join(root, "v.txt"), "utf8")).toBe("by the worker\n");
    expect(await statusOf(ctx, "V")).toMatchObject({ status: "DONE" });
    const [run] = await rowsOf(ctx, "SELECT review_log_path FROM runs WHERE task_id = 'V'");
    expect(readFileSync(run.review_log_path, "utf8")).toContain('"permission_denials":[{"tool_name":"Write"');
  }

  it("two workers at once, one straying through a shell command: only that one is blamed", { timeout: 120_000 }, async () => {
    let root = "";
    const { ctx } = await realSetup(
      byTask({
        STRAY: turns([toolUse("Bash", { command: "touch stray.txt" }), text("Touched.")]),
        GOOD: async (req) => {
          if (req.turn === 0) {
            // Edit only after the other worker's stray file exists: both attempts overlap it.
            await until(() => existsSync(join(root, "stray.txt")));
            return toolUse("Write", { file_path: join(root, "good.txt"), content: "good\n" });
          }
          // Reporting progress (as its prompt asks) is a shell command that writes nothing of the project.
          if (req.turn === 1) return toolUse("Bash", { command: 'aipm progress 1/1 "good.txt"' });
          return text("Wrote good.txt.");
        },
      }),
    );
    root = join(ctx.dir, "ws");
    mkdirSync(root, { recursive: true });
    const git = (...a: string[]) => execFileSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...a], { cwd: root });
    git("init", "-q");
    writeFileSync(join(root, "README.md"), "repo\n");
    git("add", "-A");
    git("commit", "-qm", "init");
    await importPlan(
      ctx,
      plan([
        { id: "STRAY", prompt: "touch", target_files: ["s.txt"], allowed_tools: ["Bash(touch *)"], review: false },
        { id: "GOOD", prompt: "write", target_files: ["good.txt"], review: false },
      ]),
    );
    const { code } = await runOrder(ctx, ["--max-workers", "2"]);
    expect(code).toBe(0);
    expect(await statusOf(ctx, "STRAY")).toMatchObject({ status: "DONE", out_of_scope: ["stray.txt"] });
    expect(await statusOf(ctx, "GOOD")).toMatchObject({ status: "DONE", out_of_scope: [] });
  });
});
