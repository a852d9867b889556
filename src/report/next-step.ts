/**
 * What a PM agent needs to decide about a failed task, in as few characters
 * as possible: the error on one line, and the next command to run for its
 * failure kind (the table in docs/pm-agent.md, as commands).
 */

/** The first line of an error, whitespace collapsed, cut at `max` characters. */
export function oneLine(text: string | null, max = 200): string | null {
  if (text === null) return null;
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The suggested next command for a FAILED task. */
export function nextStep(task: string, kind: string | null): string {
  const retry = `aipm retry ${task}`;
  switch (kind) {
    case "api_error":
    case "rate_limit":
    case "review_rejected":
      return retry;
    case "max_turns":
    case "budget":
      return `split ${task} or raise max_turns/max_budget_usd, then ${retry}`;
    case "permission_denied":
      return `add what was refused to target_files or allowed_tools, then ${retry}`;
    case "scope":
      return `widen target_files of ${task}, then ${retry}`;
    case "auth":
      return `fix the API key or billing, then ${retry}`;
    default:
      // exit_code, crashed, stalled, timeout, start_failed, gpu_error, agent_error...
      return `aipm logs ${task} --tail 20, then fix and ${retry}`;
  }
}
