/**
 * What a PM agent pays to run an order, in tokens (characters / 4): a 20-task
 * order with 2 failing tasks driven to its end the way docs/pm-agent.md tells
 * a PM to — once through the CLI (Bash calls), once through `aipm mcp` (the
 * official SDK client over stdio). Counted: what the PM writes (commands, tool
 * arguments, the plan), what it reads (tool output), and for MCP the tool
 * definitions. Targets (issue 12): tool output <= 1,500 tokens for the whole
 * run, tool definitions <= 800 tokens. The real builds of aipm run real
 * workers (command tasks); nothing is simulated but the PM's decisions.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Result, Suite, SuiteContext } from "./run.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(REPO, "dist", "src", "cli", "main.js");
const tokens = (chars: number) => Math.round(chars / 4);
const FAILING = ["T07", "T13"];

function plan(): string {
  const lines = ["project: bench", "root: ./ws", "orders:", "  - id: O1", "    title: Twenty tasks", "    tasks:"];
  for (let i = 1; i <= 20; i++) {
    const id = `T${String(i).padStart(2, "0")}`;
    const cmd = FAILING.includes(id) ? `test -f fixed-${id} || { echo "${id}: check failed"; exit 1; }` : "true";
    const deps = i > 10 ? `, deps: [T${String(i - 10).padStart(2, "0")}]` : "";
    lines.push(`      - {id: ${id}, title: step ${i}, command: '${cmd}', target_files: [f${i}], max_attempts: 1${deps}}`);
  }
  return `${lines.join("\n")}\n`;
}

interface Tally {
  calls: number;
  input: number;
  output: number;
}

function env(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AIPM_DB: join(dir, ".aipm", "aipm.db"),
    AIPM_ENABLE_MONITORING: "false",
    AIPM_POLL_MS: "40",
  };
}

/** The CLI loop: Write plan.yaml; start; background wait; read a log tail; fix; retry both; background wait. */
function cliLoop(dir: string): Tally {
  const t: Tally = { calls: 0, input: 0, output: 0 };
  const text = plan();
  writeFileSync(join(dir, "plan.yaml"), text);
  t.calls++;
  t.input += text.length; // the Write tool call that creates the plan
  const bash = (command: string) => {
    const r = spawnSync("/bin/sh", ["-c", command], { cwd: dir, env: { ...env(dir), PATH: `${join(dir, "bin")}:${process.env.PATH}` }, encoding: "utf8" });
    t.calls++;
    t.input += command.length;
    t.output += r.stdout.length + r.stderr.length;
    return r.stdout;
  };
  writeFileSync(join(dir, "bin-aipm"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  spawnSync("/bin/sh", ["-c", `mkdir -p bin && mv bin-aipm bin/aipm`], { cwd: dir });
  bash("aipm import plan.yaml && aipm parallel-launch bench O1 --summary");
  const first = JSON.parse(bash("aipm wait bench O1 --json"));
  bash(`aipm logs ${first.failed[0].task} --tail 20`);
  for (const f of first.failed) writeFileSync(join(dir, "ws", `fixed-${f.task}`), "");
  t.calls++;
  t.input += 60; // the PM's fix (an Edit call), roughly
  bash(`${first.failed.map((f: { task: string }) => `aipm retry ${f.task}`).join(" && ")} >/dev/null`);
  const second = JSON.parse(bash("aipm wait bench O1 --json"));
  if (!second.done) throw new Error("cli loop: the order did not end done");
  return t;
}

/** The MCP loop: submit; wait; logs; fix; retry both; wait. */
async function mcpLoop(dir: string): Promise<Tally & { definitions: number; names: number }> {
  const t = { calls: 0, input: 0, output: 0, definitions: 0, names: 0 };
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp"], cwd: dir, env: env(dir) as Record<string, string> }));
  try {
    const { tools } = await client.listTools();
    // As Claude Code sends them: mcp__aipm__<name>, description, input_schema (loaded once by ToolSearch).
    t.definitions = JSON.stringify(tools.map((x) => ({ name: `mcp__aipm__${x.name}`, description: x.description, input_schema: x.inputSchema }))).length;
    t.names = tools.map((x) => `mcp__aipm__${x.name}\n`).join("").length;
    const call = async (name: string, args: Record<string, unknown>) => {
      const r: any = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
      const out = r.content.map((c: { text: string }) => c.text).join("");
      t.calls++;
      t.input += name.length + 11 + JSON.stringify(args).length;
      t.output += out.length;
      if (r.isError) throw new Error(`${name}: ${out}`);
      return JSON.parse(out);
    };
    await call("submit", { plan: plan() });
    const first = await call("wait", { project: "bench", order: "O1" });
    await call("logs", { task: first.failed[0].task, lines: 20 });
    for (const f of first.failed) writeFileSync(join(dir, "ws", `fixed-${f.task}`), "");
    t.calls++;
    t.input += 60;
    for (const f of first.failed) await call("retry", { task: f.task });
    const second = await call("wait", { project: "bench", order: "O1" });
    if (!second.done) throw new Error("mcp loop: the order did not end done");
    return t;
  } finally {
    await client.close();
  }
}

function fresh(): string {
  return mkdtempSync(join(tmpdir(), "aipm-pm-bench-"));
}

export const pmTokens: Suite = {
  name: "pm-tokens",
  description: "tokens a PM agent pays for a 20-task order with 2 failures and a retry: CLI loop vs MCP loop",
  async run(ctx: SuiteContext): Promise<Result[]> {
    const d1 = fresh();
    const d2 = fresh();
    try {
      ctx.log("pm-tokens: CLI loop");
      const cli = cliLoop(d1);
      ctx.log("pm-tokens: MCP loop");
      const mcp = await mcpLoop(d2);
      const turns = mcp.calls + 1; // each call's result starts a request, plus the first
      const r = (name: string, value: number, extra: Partial<Result> = {}): Result => ({ name, value, unit: "tokens", ...extra });
      const withTarget = (name: string, value: number, target: number, extra: Partial<Result> = {}) =>
        r(name, value, { target, pass: value <= target, ...extra });
      return [
        withTarget("CLI loop: tool output, whole run", tokens(cli.output), 1500, { note: `${cli.calls} tool calls`, params: { chars: cli.output } }),
        r("CLI loop: tool input (plan + commands)", tokens(cli.input), { sub: true }),
        withTarget("MCP loop: tool output, whole run", tokens(mcp.output), 1500, { note: `${mcp.calls} tool calls`, params: { chars: mcp.output } }),
        r("MCP loop: tool input (plan + arguments)", tokens(mcp.input), { sub: true }),
        withTarget("MCP tool definitions (9 tools, one copy)", tokens(mcp.definitions), 800, { params: { chars: mcp.definitions } }),
        r(`MCP definitions x ${turns} requests, if sent every turn`, tokens(mcp.definitions * turns), {
          sub: true,
          note: `Claude Code 2.1.332 defers MCP tools: ${tokens(mcp.names)} tokens of names per turn until ToolSearch loads them`,
        }),
      ];
    } finally {
      rmSync(d1, { recursive: true, force: true });
      rmSync(d2, { recursive: true, force: true });
    }
  },
};
