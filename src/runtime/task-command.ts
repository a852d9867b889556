/**
 * What a task's process runs: its `command` (an argv array, or a string for
 * /bin/sh -c), or for a prompt task the agent command — `$AIPM_AGENT_CMD`, a
 * JSON argv template, default Claude Code — with the prompt on stdin unless
 * the template places `{prompt}` itself.
 *
 * Placeholders `{prompt}`, `{model}`, `{task}`, `{order}`, `{project}` and
 * `{settings}` (the attempt's generated permission settings file, see
 * src/agent/permissions.ts) are replaced inside each argument; nothing goes
 * through a shell. With no model anywhere (task, launch, AIPM_MODEL), an
 * argument that is exactly `{model}` is dropped together with a `--model`
 * flag just before it, so the agent picks its own default.
 *
 * The default agent command is Claude Code with the task's permissions:
 *
 *   claude -p --output-format stream-json --verbose [--model M]
 *     --permission-mode dontAsk --settings <attempt>.settings.json
 *     --setting-sources "" --strict-mcp-config
 *     [--max-turns N] [--max-budget-usd X] [--resume SESSION]
 *
 * `--setting-sources ""` and `--strict-mcp-config` keep the PM's own Claude
 * settings, hooks and MCP servers (user or project) out of the worker.
 */
import { usageError } from "../errors.js";

/** The agent command's template (the permission flags are added to it, see defaultAgentArgv). */
export const DEFAULT_AGENT_CMD = ["claude", "-p", "--output-format", "stream-json", "--verbose", "--model", "{model}"];

/** What aipm adds to the default agent command for one attempt. */
export interface AgentLaunch {
  /** The generated settings file (permissions). */
  settingsPath: string;
  maxTurns: number | null;
  maxBudgetUsd: number | null;
  /** Continue this Claude session (`--resume`) rather than start a new one. */
  resumeSession: string | null;
}

/** The default agent argv for one attempt. */
export function defaultAgentArgv(model: string | null, launch: AgentLaunch): string[] {
  const argv = ["claude", "-p", "--output-format", "stream-json", "--verbose"];
  if (model) argv.push("--model", model);
  argv.push("--permission-mode", "dontAsk", "--settings", launch.settingsPath, "--setting-sources", "", "--strict-mcp-config");
  if (launch.maxTurns !== null) argv.push("--max-turns", String(launch.maxTurns));
  if (launch.maxBudgetUsd !== null) argv.push("--max-budget-usd", String(launch.maxBudgetUsd));
  if (launch.resumeSession) argv.push("--resume", launch.resumeSession);
  return argv;
}

export interface TaskCommandInput {
  project: string;
  order: string;
  task: string;
  /** JSON as stored: an argv array or a string. Null for prompt tasks. */
  command: string | null;
  /** The full prompt text for a prompt task. */
  prompt: string | null;
  model: string | null;
  /** For a prompt task: the settings file and limits of this attempt. */
  agent?: AgentLaunch | undefined;
}

export interface TaskCommand {
  argv: string[];
  /** Text for the process's stdin, or null for none. */
  stdin: string | null;
}

export function parseTemplate(raw: string | undefined, name: string): string[] | null {
  if (raw === undefined || raw.trim() === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw usageError(`${name}: expected a JSON argv array such as ["claude","-p"], got '${raw.slice(0, 60)}'`);
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === "string")) {
    throw usageError(`${name}: expected a non-empty JSON array of strings`);
  }
  return v as string[];
}

/** Expands an argv template; returns the argv and whether `{prompt}` was placed in it. */
export function expandTemplate(
  template: readonly string[],
  values: { prompt: string; model: string | null; task: string; order: string; project: string; settings?: string },
): { argv: string[]; promptPlaced: boolean } {
  const argv: string[] = [];
  let promptPlaced = false;
  for (const arg of template) {
    if (arg === "{model}" && !values.model) {
      if (argv[argv.length - 1] === "--model") argv.pop();
      continue;
    }
    if (arg.includes("{prompt}")) promptPlaced = true;
    argv.push(
      arg.replace(/\{(prompt|model|task|order|project|settings)\}/g, (_m, key: string) => {
        const v = values[key as keyof typeof values];
        return v ?? "";
      }),
    );
  }
  return { argv, promptPlaced };
}

export function taskCommand(input: TaskCommandInput, env: NodeJS.ProcessEnv): TaskCommand {
  if (input.command !== null) {
    const c = JSON.parse(input.command) as string[] | string;
    return { argv: typeof c === "string" ? ["/bin/sh", "-c", c] : c, stdin: null };
  }
  const template = parseTemplate(env.AIPM_AGENT_CMD, "AIPM_AGENT_CMD");
  const prompt = input.prompt ?? "";
  if (template === null && input.agent) return { argv: defaultAgentArgv(input.model, input.agent), stdin: prompt };
  const { argv, promptPlaced } = expandTemplate(template ?? DEFAULT_AGENT_CMD, {
    prompt,
    model: input.model,
    task: input.task,
    order: input.order,
    project: input.project,
    settings: input.agent?.settingsPath ?? "",
  });
  return { argv, stdin: promptPlaced ? null : prompt };
}
