/**
 * The permissions aipm gives a Claude Code worker, derived from its task:
 * read the repository, edit exactly its `target_files`, report progress with
 * `aipm progress`, run what the plan allows (`allowed_tools` of the project,
 * the order and the task), and nothing else. The reviewer only reads.
 *
 * They reach the CLI as a settings file (`--settings <attempt>.settings.json`)
 * with `defaultMode: "dontAsk"`: anything not allowed is refused before it
 * happens, with no prompt to hang on, and listed in the result's
 * `permission_denials` (which fails the attempt as `permission_denied`).
 *
 * Path rules are written absolute (`Edit(//abs/root/src/a.ts)`): Claude Code
 * reads `path` gitignore-style (a bare `a.ts` would match `x/a.ts` too) and
 * `/path` relative to the settings file, which lives in aipm's log folder.
 * Gitignore's special characters in the root and in literal entries are
 * escaped (a root named `app[12]` would otherwise also match `app1/`).
 * `Edit(...)` rules cover `Write` too (measured); `Write(...)` rules are never
 * consulted by the CLI.
 *
 * Reading needs no rule: in `dontAsk` mode Claude Code lets a worker read
 * inside its working directory (the project) and refuses reads elsewhere
 * (`~/.ssh`, other repositories); read-only shell commands (`ls`, `cat`,
 * `git status`) are allowed by the CLI itself.
 *
 * What this does not bind: a program the agent is allowed to run (`npm test`
 * runs whatever the project's scripts say). The scope check after the
 * attempt (src/scope/git-scope.ts) stays the backstop.
 */
import { expandTargetGlob, isGlob } from "../paths/target-path.js";

/** Tools that only read or only track the agent's own plan; reading the project needs no rule (see above). */
export const READ_TOOLS = ["TodoWrite"];

/** Tools that write files: only `target_files` grant them (never `allowed_tools`, which would bypass the locks). */
export const FILE_WRITE_TOOLS = ["Edit", "Write", "MultiEdit", "NotebookEdit"];

/** How a worker reports progress (see `aipm progress`). */
export const PROGRESS_RULES = ["Bash(aipm progress *)", "Bash(aipm progress:*)"];

export interface AgentRules {
  allow: string[];
  deny: string[];
}

/** Gitignore's special characters, escaped so that they stand for themselves. */
export function escapeGitignore(path: string): string {
  return path.replace(/[\\[\]*?!#]/g, (c) => `\\${c}`);
}

/** `//abs/path`: Claude Code's spelling of an absolute path in a rule; `entry` stays a pattern when it is a glob. */
function absoluteRule(root: string, entry: string, glob: boolean): string {
  const base = escapeGitignore(root.replace(/\/+$/, ""));
  const rel = entry === "." ? "" : `/${glob ? entry : escapeGitignore(entry)}`;
  return `/${base.startsWith("/") ? base : `/${base}`}${rel}`;
}

/** The Edit rules for one normalised target entry (a file, a directory, or a glob). */
export function editRules(root: string, target: string): string[] {
  const out: string[] = [];
  for (const entry of isGlob(target) ? expandTargetGlob(target) : [target]) {
    const glob = isGlob(entry);
    const abs = absoluteRule(root, entry, glob);
    out.push(`Edit(${abs})`);
    // A literal may name a directory: everything under it is the task's too.
    if (!glob) out.push(`Edit(${abs}/**)`);
  }
  return out;
}

export interface WorkerRulesInput {
  root: string;
  targetFiles: readonly string[];
  /** The plan's `allowed_tools` for the project, the order and the task. */
  allowedTools: readonly string[];
}

export function workerRules(input: WorkerRulesInput): AgentRules {
  const allow = [...READ_TOOLS, ...PROGRESS_RULES];
  for (const t of input.targetFiles) allow.push(...editRules(input.root, t));
  for (const r of input.allowedTools) if (!allow.includes(r)) allow.push(r);
  return { allow: [...new Set(allow)], deny: [] };
}

/** The reviewer reads; it edits nothing and runs nothing. */
export function reviewerRules(): AgentRules {
  return { allow: [...READ_TOOLS], deny: [] };
}

/** The settings file given to the CLI with `--settings`. */
export function settingsJson(rules: AgentRules): string {
  return `${JSON.stringify({ permissions: { allow: rules.allow, deny: rules.deny, defaultMode: "dontAsk" } }, null, 2)}\n`;
}

/** Merges the JSON rule lists stored for a project, an order and a task. */
export function mergeRuleLists(...lists: Array<string | null | undefined>): string[] {
  const out: string[] = [];
  for (const l of lists) {
    if (!l) continue;
    for (const r of JSON.parse(l) as string[]) if (!out.includes(r)) out.push(r);
  }
  return out;
}
