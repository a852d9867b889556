/**
 * `aipm mcp` driven by the official MCP SDK client over stdio: the built
 * binary as a real child process, a real database, command tasks.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BIN } from "./helpers.js";
import { readJson, setup, waitFor, type Ctx } from "./runtime-helpers.js";

const clients: Client[] = [];
afterEach(async () => {
  while (clients.length) await clients.pop()!.close().catch(() => {});
});

async function connect(ctx: Ctx, cwd = ctx.dir): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "--db", ctx.db, "mcp"],
    cwd,
    env: ctx.env,
    stderr: "pipe",
  });
  const client = new Client({ name: "aipm-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function text(r: any): string {
  return r.content.map((c: any) => c.text).join("");
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}, onprogress?: (p: any) => void): Promise<any> {
  const r: any = await client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 60_000 });
  if (r.isError) throw new Error(`tool error from ${name}: ${text(r)}`);
  return JSON.parse(text(r));
}

const PLAN = `project: p
root: ./ws
orders:
  - id: O1
    title: MCP
    tasks:
      - {id: A, title: a, command: "echo a", target_files: [a]}
      - {id: B, title: b, command: "test -f fixed || { echo broken; exit 3; }", target_files: [b], max_attempts: 1}
      - {id: C, title: c, command: "echo c", target_files: [c], deps: [A]}
`;

describe("aipm mcp over stdio (official SDK client)", () => {
  it("lists lean tools; submit launches; wait reports progress and a failure with its next step; retry; wait again ends done", { timeout: 60_000 }, async () => {
    const ctx = setup();
    const client = await connect(ctx);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["submit", "launch", "wait", "status", "retry", "kill", "pause", "explain", "logs"]);
    const defs = JSON.stringify(tools);
    // Paid on every turn: keep them small (issue 12: tool definitions <= 800 tokens).
    expect(defs.length / 4).toBeLessThan(800);

    const sub = await call(client, "submit", { plan: PLAN });
    expect(sub).toMatchObject({ project: "p", added: 3, updated: 0, launched: [{ order: "O1" }] });

    const progress: any[] = [];
    const summary = await call(client, "wait", { project: "p", order: "O1" }, (p) => progress.push(p));
    expect(summary).toMatchObject({ project: "p", order: "O1", done: false, timed_out: false });
    expect(summary.counts).toMatchObject({ DONE: 2, FAILED: 1 });
    expect(summary.failed).toEqual([
      expect.objectContaining({ task: "B", failure_kind: "exit_code", error: "exit code 3", attempts: 1, next: expect.stringContaining("aipm retry B") }),
    ]);
    expect(JSON.stringify(summary)).not.toContain("broken"); // never the log's content
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ total: 3 });

    const tail = await call(client, "logs", { task: "B", lines: 5 });
    expect(tail).toMatchObject({ task: "B", status: "FAILED", tail: "broken" });
    const st = await call(client, "status", { project: "p" });
    expect(st).toMatchObject({ counts: { DONE: 2, FAILED: 1 }, running: [], failed: [{ task: "B", failure_kind: "exit_code" }] });
    const why = await call(client, "explain", { task: "B" });
    expect(why).toMatchObject({ task: "B", status: "FAILED" });

    // The fix, then a retry: the order ends done.
    writeFileSync(join(ctx.dir, "ws", "fixed"), "");
    expect(await call(client, "retry", { task: "B" })).toMatchObject({ task: "B", was: "FAILED", status: "QUEUED" });
    const again = await call(client, "wait", {});
    expect(again).toMatchObject({ done: true, failed: [], orders: [{ project: "p", order: "O1", done: true }] });
    expect(JSON.stringify(again).length).toBeLessThan(1024);
  });

  it("pause and resume an order; kill a running task", { timeout: 40_000 }, async () => {
    const ctx = setup();
    const client = await connect(ctx);
    await call(client, "submit", {
      plan: JSON.stringify({ project: "p", root: "./ws", orders: [{ id: "O1", title: "t", tasks: [{ id: "S", title: "s", command: "sleep 30", target_files: ["s"] }] }] }),
    });
    await waitFor(async () => (await readJson(ctx, ["status", "p"])).tasks[0].status === "IN_PROGRESS", { what: "S running" });
    expect(await call(client, "pause", { project: "p", order: "O1" })).toEqual({ project: "p", order: "O1", paused: true });
    expect(await call(client, "pause", { project: "p", order: "O1", resume: true })).toEqual({ project: "p", order: "O1", paused: false });
    expect(await call(client, "kill", { task: "S" })).toMatchObject({ task: "S", was: "IN_PROGRESS", status: "CANCELLED" });
  });

  it("bad input is a tool error with the CLI's one-line message, and nothing is written", { timeout: 30_000 }, async () => {
    const ctx = setup();
    const client = await connect(ctx);
    const bad = async (name: string, args: Record<string, unknown>) => {
      const r: any = await client.callTool({ name, arguments: args });
      expect(r.isError).toBe(true);
      return text(r);
    };
    expect(await bad("retry", { task: 3 })).toBe("task: expected a string, got 3");
    expect(await bad("retry", {})).toBe("retry: missing argument task");
    expect(await bad("wait", { order: "O1" })).toBe("wait: an order needs its project");
    expect(await bad("logs", { task: "A", lines: 2.5 })).toBe("lines: expected an integer, got 2.5");
    expect(await bad("nope", {})).toMatch(/^unknown tool nope/);
    expect(await bad("submit", { plan: "missing.yaml" })).toBe("cannot read plan file missing.yaml: no such file");
    // Argument and file errors come before the store is opened: not even a database was created.
    expect(existsSync(ctx.db)).toBe(false);
    const invalid = await bad("submit", { plan: "project: p\nroot: ./ws\norders:\n  - id: O1\n    title: t\n    tasks:\n      - {id: A, title: a, target_files: [a]}\n" });
    expect(invalid).toMatch(/^invalid plan \(1 problem\), nothing was imported:\n {2}orders\[0\]\.tasks\[0\]/);
    expect((await readJson(ctx, ["status"])).tasks).toEqual([]);
    expect(existsSync(join(ctx.dir, "ws"))).toBe(false);
    expect(await bad("retry", { task: "A" })).toMatch(/^unknown task A/);
  });
});
