/**
 * `aipm mcp`: serve the PM loop as MCP tools on stdio until the client
 * closes stdin. Diagnostics go to stderr; stdout carries only the protocol.
 */
import type { Argv } from "yargs";
import type { CliIO, GlobalArgs } from "../io.js";
import { resolveDbPath } from "../../store/open.js";

export function registerMcp(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "mcp",
    "an MCP server on stdio exposing the PM loop (submit, launch, wait, status, retry, kill, pause, explain, logs)",
    (b) => b.example("claude mcp add aipm -- aipm mcp", "let Claude Code drive aipm (or: aipm setup claude)"),
    async (args) => {
      const { serveMcp } = await import("../../mcp/server.js");
      await serveMcp({ env: io.env, cwd: io.cwd, db: args.db !== undefined ? resolveDbPath({ db: args.db, cwd: io.cwd }) : undefined, stderr: io.stderr });
    },
  );
}
