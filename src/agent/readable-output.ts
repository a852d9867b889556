/**
 * An agent's stream-json made readable for a person following a task in the
 * foreground (`aipm execute-task`): each event becomes one short line — a
 * tool call (`> Edit src/a.ts`), a line of the agent's text, its result —
 * and lines that are not stream-json pass through unchanged.
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
      if (!line.startsWith('{"type"')) {
        out.push(line);
        continue;
      }
      const before = this.agent.lastActivity;
      this.agent.push(line);
      const now = this.agent.lastActivity;
      if (now && now !== before) out.push(`> ${now}`);
    }
    return out.length ? `${out.join("\n")}\n` : "";
  }

  /** What is left at the end (a last line without a newline). */
  flush(): string {
    const rest = this.partial;
    this.partial = "";
    return rest && !rest.startsWith('{"type"') ? `${rest}\n` : "";
  }
}
