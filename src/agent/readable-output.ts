/**
 * An agent's stream-json made readable for a person (`aipm logs`,
 * `aipm execute-task`): each event becomes one short line — a tool call
 * (`> Edit src/a.ts`), a line of the agent's text, an API retry, a refusal,
 * its result — and lines that are not stream-json pass through unchanged.
 * Raw JSON is shown only with `--raw`.
 */
import { AgentStream } from "./stream-json.js";

export class ReadableAgentOutput {
  private partial = "";
  private readonly agent = new AgentStream();

  /** Takes raw output; returns the text to show for the complete lines in it. */
  push(chunk: string): string {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    const out: string[] = [];
    for (const line of lines) {
      this.agent.push(line.replace(/\r$/, ""));
      if (this.agent.lines.length) out.push(...this.agent.lines);
      else if (line.trim() === "") out.push(line);
    }
    return out.length ? `${out.join("\n")}\n` : "";
  }

  /** What is left at the end (a last line without a newline). */
  flush(): string {
    const rest = this.partial;
    this.partial = "";
    if (!rest) return "";
    this.agent.push(rest);
    return this.agent.lines.length ? `${this.agent.lines.join("\n")}\n` : "";
  }
}
