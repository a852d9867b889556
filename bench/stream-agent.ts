/**
 * A stand-in for `claude -p --output-format stream-json` that streams at a
 * set rate, for the agent-streams benchmark: realistic events (system/init,
 * assistant text, tool_use Read/Edit/Bash with their tool_result, a final
 * result with cost and usage), about `BENCH_STREAM_KBPS` KB per second for
 * `BENCH_STREAM_S` seconds, in bursts every 100 ms — or, with
 * `BENCH_STREAM_MB`, that many megabytes as fast as it can (the end of an
 * attempt whose log is that big). Its prompt (stdin) is ignored.
 */
import { randomUUID } from "node:crypto";

const env = process.env;
const kbps = Number(env.BENCH_STREAM_KBPS ?? 100);
const seconds = Number(env.BENCH_STREAM_S ?? 60);
const totalMb = env.BENCH_STREAM_MB ? Number(env.BENCH_STREAM_MB) : null;
const session = randomUUID();
const root = process.cwd();
const filler = "The function reads the configuration, validates each entry and returns the merged result. ".repeat(40);
let turn = 0;

function events(): string[] {
  turn++;
  const id = `toolu_${randomUUID().slice(0, 8)}`;
  const file = `${root}/src/module${turn % 50}.ts`;
  const msg = (content: unknown[]) =>
    JSON.stringify({ type: "assistant", message: { id: randomUUID(), type: "message", role: "assistant", model: "claude-bench", content }, session_id: session });
  const result = (content: string) =>
    JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content }] }, session_id: session });
  switch (turn % 4) {
    case 0:
      return [msg([{ type: "text", text: `Looking at ${file}: ${filler.slice(0, 600)}` }])];
    case 1:
      return [msg([{ type: "tool_use", id, name: "Read", input: { file_path: file } }]), result(filler.slice(0, 3000))];
    case 2:
      return [msg([{ type: "tool_use", id, name: "Edit", input: { file_path: file, old_string: filler.slice(0, 200), new_string: filler.slice(0, 240) } }]), result("ok")];
    default:
      return [msg([{ type: "tool_use", id, name: "Bash", input: { command: "npm test -- --run" } }]), result(filler.slice(0, 1500))];
  }
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once("drain", () => resolve());
  });
}

const t0 = Date.now();
await write(`${JSON.stringify({ type: "system", subtype: "init", cwd: root, session_id: session, model: "claude-bench", tools: ["Read", "Edit", "Bash"] })}\n`);
let sent = 0;
if (totalMb !== null) {
  const goal = totalMb * 1048576;
  while (sent < goal) {
    let chunk = "";
    while (chunk.length < 65536) chunk += `${events().join("\n")}\n`;
    sent += chunk.length;
    await write(chunk);
  }
} else {
  const perTick = (kbps * 1024) / 10;
  for (let tick = 1; Date.now() - t0 < seconds * 1000; tick++) {
    let chunk = "";
    while (sent + chunk.length < tick * perTick) chunk += `${events().join("\n")}\n`;
    sent += chunk.length;
    await write(chunk);
    const next = t0 + tick * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
}
await write(
  `${JSON.stringify({
    type: "result",
    subtype: "success",
    is_error: false,
    duration_ms: Date.now() - t0,
    num_turns: turn,
    result: "Done: the module is refactored and its tests pass.",
    session_id: session,
    total_cost_usd: 0.42,
    usage: { input_tokens: 120000, output_tokens: 8000, cache_read_input_tokens: 50000, cache_creation_input_tokens: 0 },
    permission_denials: [],
  })}\n`,
);
