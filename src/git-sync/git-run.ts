/**
 * Git for git sync: asynchronous (never blocking a supervisor's event loop),
 * an argv array (never a shell string), a timeout, and no prompts (a remote
 * that asks for a password fails instead of waiting for a terminal).
 */
import { execFile } from "node:child_process";

export interface GitResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fetch and push may take a while over a network; local commands are quick. */
export const GIT_TIMEOUT_MS = 120_000;

export function runGit(root: string, args: readonly string[], timeoutMs = GIT_TIMEOUT_MS): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-C", root, ...args],
      {
        encoding: "utf8",
        timeout: timeoutMs,
        maxBuffer: 64 << 20,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true", LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
        resolve({ ok: !err, code, stdout: String(stdout ?? ""), stderr: String(stderr ?? "") || (err && code === null ? err.message : "") });
      },
    );
  });
}

/** Runs git and throws a GitError naming the command unless it succeeds; returns stdout. */
export async function git(root: string, args: readonly string[], timeoutMs = GIT_TIMEOUT_MS): Promise<string> {
  const r = await runGit(root, args, timeoutMs);
  if (!r.ok) throw new GitError(args, r);
  return r.stdout;
}

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    super(`git ${args[0]}: ${lastLine(result.stderr) || `exit code ${result.code ?? "?"}`}`);
  }
}

/** The last non-empty line of git's stderr (its reason), shortened. */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("hint:"));
  return (lines.at(-1) ?? "").slice(0, 300);
}
