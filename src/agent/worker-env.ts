/**
 * The environment an agent worker starts with: the aipm variables, and none
 * of the variables a parent Claude Code session sets for the processes it
 * runs (a PM session that launches aipm passes them down: `CLAUDECODE=1`, its
 * entrypoint, its IDE port, its session and project directory). Those change
 * how a nested `claude` behaves; the user's own configuration of the CLI
 * (`ANTHROPIC_*`, `CLAUDE_CODE_MAX_RETRIES`, `CLAUDE_CODE_USE_BEDROCK`...)
 * is kept.
 *
 * `API_TIMEOUT_MS` bounds each API request (the CLI's default is 600 s of
 * silence): a silent API then surfaces as an error the attempt is classified
 * by, before the stall limit kills it. A value the user set is kept.
 */

/** Variables of a parent Claude Code session, never passed to a worker. Measured with Claude Code 2.1.332 (`env` run by its Bash tool), plus its IDE and hook variables. */
export const SESSION_VARS = [
  "CLAUDECODE",
  "CLAUDE_CODE_CHILD_SESSION",
  "CLAUDE_CODE_SESSION_ID",
  "CLAUDE_CODE_SESSION_ATTENDED",
  "CLAUDE_PID",
  "CLAUDE_CODE_ENTRYPOINT",
  "CLAUDE_CODE_EXECPATH",
  "CLAUDE_CODE_MESSAGING_SOCKET",
  "CLAUDE_CODE_MESSAGING_TOKEN",
  "CLAUDE_CODE_CHILD_NOTES_DIR",
  "CLAUDE_CODE_SSE_PORT",
  "CLAUDE_EFFORT",
  "CLAUDE_PROJECT_DIR",
  "CLAUDE_ENV_FILE",
  "AI_AGENT",
  "TRACEPARENT",
];

const SESSION_PREFIXES = [
  "CLAUDE_CODE_SESSION_",
  "CLAUDE_CODE_CHILD_",
  "CLAUDE_CODE_MESSAGING_",
  "CLAUDE_CODE_REMOTE",
  "CLAUDE_CODE_CONTAINER_ID",
  "CLAUDE_CODE_LAUNCHED_BY_",
  "CLAUDE_CODE_SPAWNED_BY_",
  "CLAUDE_CODE_SKIP_PROMPT_HISTORY",
  "CLAUDE_CODE_HOST_CHECKED_FOLDER",
  "CLAUDE_BRIDGE_",
  "CLAUDE_BG_",
  "CLAUDE_RUNNER_",
];


/** The variables to remove from `env` for an agent worker. */
export function sessionVarsIn(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((k) => SESSION_VARS.includes(k) || SESSION_PREFIXES.some((p) => k.startsWith(p)));
}

/** The variables an agent worker gets on top of the task's. */
export function agentVars(env: NodeJS.ProcessEnv, settingsPath: string, apiTimeoutS: number): Record<string, string> {
  const vars: Record<string, string> = { AIPM_AGENT_SETTINGS: settingsPath };
  if (env.API_TIMEOUT_MS === undefined || env.API_TIMEOUT_MS === "") vars.API_TIMEOUT_MS = String(Math.round(apiTimeoutS * 1000));
  return vars;
}
