/**
 * Resume instead of restart: an attempt after a transient API failure, a
 * usage limit, a stall, a crash, a timeout or a rejected review continues
 * the previous attempt's Claude session (`claude --resume <session>`), with
 * a short message saying why it stopped (and the review's feedback), so the
 * work done and paid for is not thrown away. When the session cannot be
 * found on this machine (Claude Code keeps them under
 * `$CLAUDE_CONFIG_DIR` or `~/.claude`, `projects/<dir>/<session>.jsonl`),
 * the attempt starts afresh with the full prompt.
 *
 * Only the default agent command resumes: a user's own AIPM_AGENT_CMD is
 * always given the full prompt.
 */
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Outcomes of the previous attempt after which the session is continued. */
export const RESUMABLE_OUTCOMES = new Set(["api_error", "rate_limit", "stalled", "crashed", "timeout", "signal", "review_rejected", "preempted"]);

export interface PreviousAttempt {
  outcome: string;
  sessionId: string | null;
  error: string | null;
}

/** Where Claude Code keeps its sessions for the worker's environment. */
function sessionsDir(env: NodeJS.ProcessEnv): string {
  const config = env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), ".claude");
  return join(config, "projects");
}

/** True when the session's transcript exists on this machine. */
export function sessionExists(sessionId: string, env: NodeJS.ProcessEnv): boolean {
  if (!/^[A-Za-z0-9-]{8,100}$/.test(sessionId)) return false;
  const dir = sessionsDir(env);
  let subdirs: string[];
  try {
    subdirs = readdirSync(dir);
  } catch {
    return false;
  }
  return subdirs.some((d) => existsSync(join(dir, d, `${sessionId}.jsonl`)));
}

/** The session to continue after `prev`, or null for a fresh start. */
export function resumableSession(prev: PreviousAttempt | undefined, env: NodeJS.ProcessEnv): string | null {
  if (!prev?.sessionId || !RESUMABLE_OUTCOMES.has(prev.outcome)) return null;
  return sessionExists(prev.sessionId, env) ? prev.sessionId : null;
}

/** The message that continues a session: why the last attempt stopped, and the review's feedback. */
export function resumeMessage(prev: PreviousAttempt, reviewFeedback: string | null): string {
  const out: string[] = [];
  if (prev.outcome === "review_rejected" && reviewFeedback) {
    out.push("A reviewer rejected your work with this feedback. Address it, then finish the task:", "", reviewFeedback);
  } else {
    const why = prev.error ? `: ${prev.error}` : "";
    out.push(
      `Your previous run of this task was interrupted (${prev.outcome}${why}).`,
      "Continue the task from where you stopped: check what is already done in the files, then finish it.",
    );
    if (reviewFeedback) out.push("", "Feedback from an earlier review to address:", reviewFeedback);
  }
  return `${out.join("\n")}\n`;
}
