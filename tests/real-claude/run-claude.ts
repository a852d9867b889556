/**
 * Runs the real `claude` binary (test-only install) against a ScriptedApi and
 * collects its stream-json output. Bounded by a timeout; never sleeps blindly.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { claudeEnv } from "./anthropic-server.js";

export const CLAUDE_BIN = join(dirname(fileURLToPath(import.meta.url)), "cli", "node_modules", ".bin", "claude");
export const claudeInstalled = (): boolean => existsSync(CLAUDE_BIN);

export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed stream-json lines (non-JSON lines are dropped). */
  events: any[];
  /** The final `result` event, if any. */
  result: any;
  timedOut: boolean;
  /** ms from spawn to exit. */
  ms: number;
  /** ms from the `result` line to exit (undefined without a result). */
  msAfterResult?: number;
}

export interface RunOptions {
  url: string;
  cwd: string;
  args: string[];
  /** Written to stdin, then stdin is closed (unless keepStdinOpen). */
  prompt?: string;
  keepStdinOpen?: boolean;
  home?: string;
  env?: Record<string, string>;
  /** Variables to remove from the child's environment (e.g. ANTHROPIC_API_KEY to test OAuth). */
  unsetEnv?: string[];
  timeoutMs?: number;
}

export function newHome(): string {
  return mkdtempSync(join(tmpdir(), "claude-home-"));
}

export function runClaude(o: RunOptions): Promise<ClaudeRun> {
  const home = o.home ?? newHome();
  const t0 = Date.now();
  return new Promise((resolve) => {
    const env = claudeEnv(o.url, home, o.env);
    for (const k of o.unsetEnv ?? []) delete env[k];
    const child = spawn(CLAUDE_BIN, o.args, { cwd: o.cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let resultAt: number | undefined;
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (resultAt === undefined && /"type":"result"/.test(stdout)) resultAt = Date.now();
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => {});
    if (o.prompt !== undefined) child.stdin.write(o.prompt);
    if (!o.keepStdinOpen) child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, o.timeoutMs ?? 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const end = Date.now();
      const events = stdout
        .split("\n")
        .filter((l) => l.trim().startsWith("{"))
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        });
      resolve({
        code,
        signal,
        stdout,
        stderr,
        events,
        result: events.findLast((e) => e.type === "result"),
        timedOut,
        ms: end - t0,
        ...(resultAt !== undefined ? { msAfterResult: end - resultAt } : {}),
      });
    });
  });
}

/** The usual headless flags. */
export const STREAM_ARGS = ["-p", "--output-format", "stream-json", "--verbose"];
