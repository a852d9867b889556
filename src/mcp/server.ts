/**
 * `aipm mcp`: an MCP server (official SDK, stdio) exposing the PM loop as the
 * tools of ./tools.ts. Arguments are checked before anything is opened; an
 * aipm error comes back as a tool error (`isError`) carrying the CLI's
 * message; anything else too, with its message only (stack on stderr with
 * AIPM_DEBUG=1). A `wait` call sends MCP progress notifications when the
 * client asked for them (a progressToken), one per finished task.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { AipmError } from "../errors.js";
import type { CliIO, GlobalArgs } from "../cli/io.js";
import { withStore } from "../cli/with-store.js";
import { checkArgs } from "./args.js";
import { TOOLS, type ToolContext } from "./tools.js";
import { packageVersion } from "../util/package-root.js";

export interface McpOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** `--db`, when given. */
  db?: string | undefined;
  /** Where diagnostics go (never stdout: that is the protocol). */
  stderr: (text: string) => void;
}

export function errorText(err: unknown): string {
  if (err instanceof AipmError) return [err.message, ...err.details.map((d) => `  ${d}`)].join("\n");
  return (err as Error)?.message ?? String(err);
}

export function createMcpServer(o: McpOptions): Server {
  const server = new Server({ name: "aipm", version: packageVersion() }, { capabilities: { tools: {} } });
  const io: CliIO = { stdout: () => {}, stderr: o.stderr, env: o.env, cwd: o.cwd, isTTY: false };
  const global: GlobalArgs = { db: o.db };

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const tool = TOOLS.find((t) => t.name === req.params.name);
    try {
      if (!tool) throw new AipmError("usage", `unknown tool ${req.params.name} (tools: ${TOOLS.map((t) => t.name).join(", ")})`);
      const args = checkArgs(tool.name, tool.inputSchema, req.params.arguments);
      const token = req.params._meta?.progressToken;
      const ctx: ToolContext = {
        env: o.env,
        cwd: o.cwd,
        signal: extra.signal,
        withStore: (fn, opts) => withStore(io, global, fn, opts),
        progress: (done, total, message) => {
          if (token === undefined) return;
          extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: done, total, message } }).catch(() => {});
        },
      };
      const result = await tool.run(args, ctx);
      return { content: [{ type: "text", text: JSON.stringify(result) }] };
    } catch (err) {
      if (o.env.AIPM_DEBUG === "1" && err instanceof Error && err.stack) o.stderr(`${err.stack}\n`);
      return { content: [{ type: "text", text: errorText(err) }], isError: true };
    }
  });
  return server;
}

/** Serves over stdio (or `transport`) until the client goes away: stdin ends, or the transport closes. */
export async function serveMcp(o: McpOptions, transport?: Transport): Promise<void> {
  const server = createMcpServer(o);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  if (!transport) {
    // The SDK's stdio transport does not notice the end of stdin: the client closing it is our end.
    process.stdin.once("end", () => void server.close());
    process.stdin.once("close", () => void server.close());
  }
  await server.connect(transport ?? new StdioServerTransport());
  await closed;
}
