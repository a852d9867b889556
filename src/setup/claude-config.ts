/**
 * `aipm setup claude`: adds aipm to a repository's Claude Code configuration
 * — an `aipm` server in `.mcp.json` (merged with the servers already there;
 * an existing `aipm` entry is kept as it is) and a section of CLAUDE.md
 * between markers, telling the PM session how to start an order and wait for
 * it in the background and what to do per failure kind (replaced in place
 * when it changes, appended otherwise). Idempotent; nothing else is touched;
 * with `dryRun` nothing is written. Files are checked before any is written.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { usageError } from "../errors.js";

export const SECTION_BEGIN = "<!-- aipm:begin (managed by `aipm setup claude`) -->";
export const SECTION_END = "<!-- aipm:end -->";

export const MCP_ENTRY = { command: "aipm", args: ["mcp"] };

export const PM_SECTION = `## Running work with aipm
Plan work; do not implement it yourself. aipm runs the tasks (Claude Code workers or shell commands) in parallel.
1. Write plan.yaml: project, root, orders: [{id, title, tasks}]. Each task: id, title, a self-contained
   \`prompt\` (or \`command\`), \`target_files\` (all it may edit; tasks sharing a file never run together), deps.
2. Start: \`aipm import plan.yaml && aipm parallel-launch <project> <order> --summary\`
3. Wait in the background (Bash with run_in_background: true): \`aipm wait <project> <order> --json\`
   (\`aipm wait --all --json\` for every active order). You are told when it exits; do not poll.
   With the aipm MCP tools instead: \`submit\` then \`wait\`.
4. Exit 0: all DONE, go on. Otherwise each \`failed\` entry has failure_kind and \`next\`, the command to run:
   api_error/rate_limit/crashed/stalled/timeout: retry; review_rejected: retry (feedback goes along);
   max_turns/budget: split the task or raise the limit; permission_denied/scope: widen target_files or
   allowed_tools; exit_code: \`aipm logs <task> --tail 20\`, fix, retry. Edit a failed task:
   \`aipm pause <p> <o>; aipm retry <t>; aipm import plan.yaml; aipm resume <p> <o>\`. Then wait again.`;

export interface FileChange {
  path: string;
  action: "create" | "update" | "unchanged";
  /** What aipm adds or replaces in the file. */
  part: string;
}

export interface SetupResult {
  dir: string;
  dry_run: boolean;
  files: FileChange[];
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The new text of .mcp.json, or null when it already has an aipm server. */
export function mergeMcpJson(text: string | null, path: string): string | null {
  let doc: Record<string, unknown> = {};
  if (text !== null && text.trim() !== "") {
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw usageError(`${path}: not valid JSON (${(err as Error).message}); fix it, then run aipm setup claude again`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw usageError(`${path}: expected a JSON object`);
  }
  const servers = doc.mcpServers ?? {};
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) throw usageError(`${path}: mcpServers must be an object`);
  if ("aipm" in servers) return null;
  return `${JSON.stringify({ ...doc, mcpServers: { ...servers, aipm: MCP_ENTRY } }, null, 2)}\n`;
}

/** The new text of CLAUDE.md, or null when its aipm section is already current. */
export function mergeClaudeMd(text: string | null, path: string): string | null {
  const section = `${SECTION_BEGIN}\n${PM_SECTION}\n${SECTION_END}`;
  if (text === null || text.trim() === "") return `${section}\n`;
  const begin = text.indexOf(SECTION_BEGIN);
  const end = text.indexOf(SECTION_END);
  if (begin < 0 && end < 0) return `${text}${text.endsWith("\n") ? "" : "\n"}\n${section}\n`;
  if (begin < 0 || end < begin) throw usageError(`${path}: an aipm section marker is missing or out of order; remove the aipm section, then run again`);
  const next = text.slice(0, begin) + section + text.slice(end + SECTION_END.length);
  return next === text ? null : next;
}

export function setupClaude(r: { dir: string; dryRun: boolean }): SetupResult {
  const mcpPath = join(r.dir, ".mcp.json");
  const mdPath = join(r.dir, "CLAUDE.md");
  if (!existsSync(r.dir)) throw usageError(`no such directory: ${r.dir}`);
  const mcpText = readText(mcpPath);
  const mdText = readText(mdPath);
  // Both are computed (and checked) before either is written.
  const mcpNext = mergeMcpJson(mcpText, mcpPath);
  const mdNext = mergeClaudeMd(mdText, mdPath);
  const files: FileChange[] = [
    { path: mcpPath, action: mcpNext === null ? "unchanged" : mcpText === null ? "create" : "update", part: `mcpServers.aipm = ${JSON.stringify(MCP_ENTRY)}` },
    { path: mdPath, action: mdNext === null ? "unchanged" : mdText === null ? "create" : "update", part: `${SECTION_BEGIN} ... ${SECTION_END}` },
  ];
  if (!r.dryRun) {
    if (mcpNext !== null) writeFileSync(mcpPath, mcpNext);
    if (mdNext !== null) writeFileSync(mdPath, mdNext);
  }
  return { dir: r.dir, dry_run: r.dryRun, files };
}
