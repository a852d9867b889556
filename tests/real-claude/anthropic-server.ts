/**
 * A scripted stand-in for the Anthropic Messages API, for tests that drive the
 * REAL `claude` CLI (ANTHROPIC_BASE_URL=<url>). node:http only, binds 127.0.0.1.
 *
 * The CLI only needs `POST /v1/messages?beta=true` (streaming SSE). Every
 * request is recorded (`requests`). Each /v1/messages call is classified as
 * the main agent loop ("main") or a side call ("side": title/topic/summary/
 * quota checks...), see `classifyMessagesCall`. Side calls get a trivial text
 * reply (unless the script sets `onSide`), so a script only sees the main
 * conversation. Anything else (count_tokens, `HEAD /api/hello` which the CLI
 * sends when nonessential traffic is allowed, unknown paths) gets a harmless
 * answer and is logged in `requests` with kind "other".
 *
 * Usage:
 *   const api = await startScriptedApi(steps([
 *     toolUse("Write", { file_path: "a.txt", content: "hi\n" }),
 *     text("done"),
 *   ]));
 *   spawn(claude, [...], { env: { ...claudeEnv(api.url, home) } });
 *   ...; await api.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

// ---------------------------------------------------------------- replies

export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  /** Defaults to a fresh `toolu_...` id. */
  id?: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

interface ReplyCommon {
  /** Extra response headers (e.g. anthropic-ratelimit-unified-*). */
  headers?: Record<string, string>;
  usage?: Partial<Usage>;
}

export type Reply =
  | (ReplyCommon & { kind: "text"; text: string; stopReason?: "end_turn" | "max_tokens" | "stop_sequence" | "refusal" })
  | (ReplyCommon & { kind: "tools"; calls: ToolCall[]; text?: string })
  | (ReplyCommon & {
      kind: "error";
      status: number;
      /** Goes into {"type":"error","error":{"type":errorType,"message":message}}. */
      errorType: string;
      message: string;
    })
  /** Never answer (afterHeaders: send 200 + SSE headers + message_start, then stall). */
  | (ReplyCommon & { kind: "hang"; afterHeaders?: boolean })
  /** Destroy the socket (afterHeaders: after 200 + message_start). */
  | (ReplyCommon & { kind: "drop"; afterHeaders?: boolean });

export const text = (t: string, extra: Omit<Extract<Reply, { kind: "text" }>, "kind" | "text"> = {}): Reply => ({
  kind: "text",
  text: t,
  ...extra,
});
export const toolUse = (name: string, input: Record<string, unknown>, extra: ReplyCommon & { text?: string } = {}): Reply => ({
  kind: "tools",
  calls: [{ name, input }],
  ...extra,
});
export const tools = (calls: ToolCall[], extra: ReplyCommon & { text?: string } = {}): Reply => ({ kind: "tools", calls, ...extra });
export const httpError = (status: number, errorType: string, message: string, headers?: Record<string, string>): Reply => ({
  kind: "error",
  status,
  errorType,
  message,
  ...(headers ? { headers } : {}),
});
export const hang = (afterHeaders = false): Reply => ({ kind: "hang", afterHeaders });
export const drop = (afterHeaders = false): Reply => ({ kind: "drop", afterHeaders });

/**
 * Headers that make the CLI report a usage limit (a `rate_limit_event` with
 * rate_limit_info.status "rejected"). Put them on a 429 rate_limit_error.
 */
export function usageLimitHeaders(resetEpochSeconds: number, claim: "five_hour" | "seven_day" = "five_hour"): Record<string, string> {
  return {
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-reset": String(resetEpochSeconds),
    "anthropic-ratelimit-unified-representative-claim": claim,
  };
}

// ---------------------------------------------------------------- requests

export type CallKind = "main" | "side" | "other";

export interface RecordedRequest {
  /** Position among ALL requests the server received. */
  seq: number;
  method: string;
  /** Path including the query string, e.g. "/v1/messages?beta=true". */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: any;
  kind: CallKind;
  /** Why it was classified so (see classifyMessagesCall). */
  reason: string;
  /** For kind "main": 0-based index among main calls. */
  index?: number;
  /** What the server answered (summary). */
  answered?: string;
}

export interface ScriptRequest {
  /** 0-based index among main calls (retries count). */
  index: number;
  /** Number of assistant turns already in body.messages (same for a retry of the same step). */
  turn: number;
  /** How many earlier main calls had the same `turn` (0 on first try, 1 on first retry...). */
  attempt: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export type Script = (req: ScriptRequest) => Reply | Promise<Reply>;

export interface ScriptedApiOptions {
  /** Answer for side calls; default: a short text. */
  onSide?: (req: RecordedRequest) => Reply;
  /** Log every request to stderr (debugging). */
  log?: boolean;
}

export interface ScriptedApi {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Only the main-conversation calls. */
  mainCalls(): RecordedRequest[];
  /** Resolves once `n` main calls were received (polls; rejects after timeoutMs). */
  waitForMainCalls(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Tells the main agent loop from side calls.
 *
 * Observed with 2.1.332 in `-p` mode (FINDINGS.md, "API traffic"): every
 * /v1/messages call was a main-loop call — model = the session model
 * (claude-opus-5-5 by default), a non-empty `tools` array (12 schemas, the rest
 * deferred behind ToolSearch), `max_tokens` 128000, `stream: true`, and
 * `system[0]` = "x-anthropic-billing-header: ...; cc_entrypoint=sdk-cli;".
 * No title/topic/summary/quota calls were seen (with or without
 * CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC). Should other versions make them,
 * they are recognisable because they carry no tools (title/topic/summary on the
 * small fast model), or a `max_tokens` of 1 (quota probe), or a title/summary
 * system prompt — those are answered with a trivial text and never reach the
 * script.
 */
export function classifyMessagesCall(body: any): { kind: "main" | "side"; reason: string } {
  if (!body || typeof body !== "object") return { kind: "side", reason: "no JSON body" };
  const toolsList = Array.isArray(body.tools) ? body.tools : [];
  const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : undefined;
  if (toolsList.length === 0) return { kind: "side", reason: `no tools (max_tokens=${maxTokens})` };
  if (maxTokens !== undefined && maxTokens <= 1) return { kind: "side", reason: `max_tokens=${maxTokens} (quota probe)` };
  const sys = systemText(body);
  if (/\bgenerate a (concise|short)? ?(title|summary)\b/i.test(sys)) return { kind: "side", reason: "title/summary system prompt" };
  return { kind: "main", reason: `tools=${toolsList.length} max_tokens=${maxTokens}` };
}

export function systemText(body: any): string {
  const s = body?.system;
  if (typeof s === "string") return s;
  if (Array.isArray(s)) return s.map((b: any) => (typeof b?.text === "string" ? b.text : "")).join("\n");
  return "";
}

/** Number of assistant messages in a Messages request body. */
export function assistantTurns(body: any): number {
  return Array.isArray(body?.messages) ? body.messages.filter((m: any) => m?.role === "assistant").length : 0;
}

/** All tool_result blocks in the last user message of a request. */
export function lastToolResults(body: any): Array<{ tool_use_id: string; is_error?: boolean; content: unknown }> {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const last = msgs[msgs.length - 1];
  if (!last || !Array.isArray(last.content)) return [];
  return last.content.filter((b: any) => b?.type === "tool_result");
}

/**
 * A script from a list of replies: the reply for a main call is
 * `list[turn]` where `turn` = assistant turns already in the conversation
 * (so a retried request gets the same reply and a resumed conversation
 * continues where it left off). Past the end: text(fallback).
 * An entry may be a function of the request (e.g. to fail only on attempt 0..1).
 */
export function steps(list: Array<Reply | Script>, fallback = "Done."): Script {
  return (req) => {
    const s = list[req.turn];
    if (s === undefined) return text(fallback);
    return typeof s === "function" ? s(req) : s;
  };
}

/** A script from a list consumed strictly in order of main calls (retries consume entries). */
export function sequence(list: Array<Reply | Script>, fallback = "Done."): Script {
  return (req) => {
    const s = list[req.index];
    if (s === undefined) return text(fallback);
    return typeof s === "function" ? s(req) : s;
  };
}

// ---------------------------------------------------------------- server

let idCounter = 0;
const newId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(idCounter++).toString(36).padStart(6, "0")}`;

const DEFAULT_USAGE: Usage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function contentBlocks(reply: Extract<Reply, { kind: "text" | "tools" }>): any[] {
  if (reply.kind === "text") return [{ type: "text", text: reply.text }];
  const blocks: any[] = [];
  if (reply.text) blocks.push({ type: "text", text: reply.text });
  for (const c of reply.calls) blocks.push({ type: "tool_use", id: c.id ?? newId("toolu"), name: c.name, input: c.input });
  return blocks;
}

function writeMessage(res: ServerResponse, body: any, reply: Extract<Reply, { kind: "text" | "tools" }>): void {
  const usage: Usage = { ...DEFAULT_USAGE, ...reply.usage };
  const model = typeof body?.model === "string" ? body.model : "claude-sonnet-4-5";
  const blocks = contentBlocks(reply);
  const stopReason = reply.kind === "tools" ? "tool_use" : (reply.stopReason ?? "end_turn");
  const id = newId("msg");
  const headers = { "request-id": newId("req"), ...reply.headers };
  if (body?.stream === false) {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(
      JSON.stringify({ id, type: "message", role: "assistant", model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...headers });
  sse(res, "message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  blocks.forEach((b, index) => {
    if (b.type === "text") {
      sse(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      sse(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: b.text } });
    } else {
      sse(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } });
      sse(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } });
    }
    sse(res, "content_block_stop", { type: "content_block_stop", index });
  });
  sse(res, "message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  sse(res, "message_stop", { type: "message_stop" });
  res.end();
}

function writeStartOnly(res: ServerResponse, body: any, headers?: Record<string, string>): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  sse(res, "message_start", {
    type: "message_start",
    message: { id: newId("msg"), type: "message", role: "assistant", model: body?.model ?? "x", content: [], stop_reason: null, stop_sequence: null, usage: DEFAULT_USAGE },
  });
}

export async function startScriptedApi(script: Script, opts: ScriptedApiOptions = {}): Promise<ScriptedApi> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const turnAttempts = new Map<number, number>();
  let mainIndex = 0;

  const answer = async (res: ServerResponse, req: IncomingMessage, body: any, reply: Reply, rec: RecordedRequest) => {
    switch (reply.kind) {
      case "text":
      case "tools":
        rec.answered = reply.kind === "text" ? `text ${JSON.stringify(reply.text.slice(0, 60))}` : `tool_use ${reply.calls.map((c) => c.name).join(",")}`;
        writeMessage(res, body, reply);
        return;
      case "error":
        rec.answered = `HTTP ${reply.status} ${reply.errorType}`;
        res.writeHead(reply.status, { "content-type": "application/json", "request-id": newId("req"), ...reply.headers });
        res.end(JSON.stringify({ type: "error", error: { type: reply.errorType, message: reply.message }, request_id: newId("req") }));
        return;
      case "hang":
        rec.answered = reply.afterHeaders ? "hang after message_start" : "hang";
        if (reply.afterHeaders) writeStartOnly(res, body, reply.headers);
        return; // never ends; close() destroys the socket
      case "drop":
        rec.answered = reply.afterHeaders ? "drop after message_start" : "drop";
        if (reply.afterHeaders) {
          writeStartOnly(res, body, reply.headers);
          setTimeout(() => req.socket.destroy(), 50);
        } else req.socket.destroy();
        return;
    }
  };

  const server = createServer(async (req, res) => {
    const raw = await readBody(req).catch(() => "");
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const path = req.url ?? "/";
    const rec: RecordedRequest = { seq: requests.length, method: req.method ?? "?", path, headers: { ...req.headers }, body, kind: "other", reason: "" };
    requests.push(rec);
    try {
      const pathname = path.split("?")[0];
      if (req.method === "POST" && pathname === "/v1/messages") {
        const c = classifyMessagesCall(body);
        rec.kind = c.kind;
        rec.reason = c.reason;
        if (opts.log) process.stderr.write(`[api] #${rec.seq} ${c.kind} (${c.reason}) model=${body?.model}\n`);
        if (c.kind === "side") {
          await answer(res, req, body, opts.onSide ? opts.onSide(rec) : text("OK"), rec);
          return;
        }
        const turn = assistantTurns(body);
        const attempt = turnAttempts.get(turn) ?? 0;
        turnAttempts.set(turn, attempt + 1);
        rec.index = mainIndex++;
        const reply = await script({ index: rec.index, turn, attempt, body, headers: rec.headers });
        await answer(res, req, body, reply, rec);
        return;
      }
      if (opts.log) process.stderr.write(`[api] #${rec.seq} other ${req.method} ${path}\n`);
      if (req.method === "POST" && pathname === "/v1/messages/count_tokens") {
        rec.reason = "count_tokens";
        rec.answered = "count_tokens";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 100 }));
        return;
      }
      rec.reason = "unexpected path";
      if (req.method === "HEAD") {
        rec.answered = "HEAD 200";
        res.writeHead(200);
        res.end();
        return;
      }
      rec.answered = "404";
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `scripted API: no route ${req.method} ${path}` } }));
    } catch (err) {
      rec.answered = `500 script threw: ${String(err)}`;
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `scripted API: script threw: ${String(err)}` } }));
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const mainCalls = () => requests.filter((r) => r.kind === "main");
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    mainCalls,
    async waitForMainCalls(n, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (mainCalls().length < n) {
        if (Date.now() > deadline) throw new Error(`waited ${timeoutMs}ms for ${n} main calls, got ${mainCalls().length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------- running the CLI

/** The environment the real CLI needs to talk to this server and nothing else. */
export function claudeEnv(url: string, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: "sk-ant-test-key",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    ...extra,
  };
}
