/**
 * The prompt the reviewer receives: the task as the worker saw it (title,
 * prompt, target files), what the worker said it did (its result), and the
 * change itself — the diff of the target files since the attempt started
 * (new files in full), cut to a size a reviewer can read. It ends with the
 * answer format the default review command understands: a last line
 * `VERDICT: APPROVE` or `VERDICT: REJECT`, the feedback above it.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/open.js";
import { reviewPromptInput } from "../store/prompt-inputs.js";
import { targetFiles } from "../store/tasks-read.js";
import { git, inGitRepo, type ScopeBase } from "../scope/git-scope.js";
import { isGlob } from "../paths/target-path.js";

const DIFF_MAX = 60_000;
const FILE_MAX = 20_000;

function pathspecs(files: readonly string[]): string[] {
  return files.map((f) => (f === "." ? "." : isGlob(f) ? `:(glob)${f}` : f));
}

function readCapped(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return null;
    const text = readFileSync(path, "utf8");
    return text.length > FILE_MAX ? `${text.slice(0, FILE_MAX)}\n[... cut at ${FILE_MAX} characters]` : text;
  } catch {
    return null;
  }
}

/** The change to review: a git diff of the target files (and new files), or their contents outside git. */
export function targetDiff(root: string, files: readonly string[], base: ScopeBase | null): string {
  if (files.length === 0) return "(the task has no target files)";
  const parts: string[] = [];
  if (inGitRepo(root)) {
    const specs = pathspecs(files);
    const diff = git(root, ["diff", "--no-color", "--no-ext-diff", ...(base?.head ? [base.head] : []), "--", ...specs]);
    if (diff) parts.push(diff.trimEnd());
    const untracked = git(root, ["ls-files", "--others", "--exclude-standard", "-z", "--", ...specs]);
    for (const f of (untracked ?? "").split("\0").filter(Boolean)) {
      const text = readCapped(join(root, f));
      if (text !== null) parts.push(`--- new file: ${f}\n${text.trimEnd()}`);
    }
    if (parts.length === 0) parts.push("(no change to the target files)");
  } else {
    for (const f of files) {
      if (isGlob(f)) continue;
      const text = readCapped(join(root, f));
      parts.push(text === null ? `--- ${f}: (missing)` : `--- ${f} (not a git project: whole file)\n${text.trimEnd()}`);
    }
  }
  const all = parts.join("\n\n");
  return all.length > DIFF_MAX ? `${all.slice(0, DIFF_MAX)}\n[... diff cut at ${DIFF_MAX} characters]` : all;
}

export function buildReviewPrompt(store: Store, project: string, task: string, attempt: number): string {
  const t = reviewPromptInput(store, project, task, attempt);
  const files = targetFiles(store, project, task);
  const base = t.scope_base ? (JSON.parse(t.scope_base) as ScopeBase) : null;
  const out: string[] = [];
  out.push(`# Review of task ${task}${t.title ? `: ${t.title}` : ""} (order ${t.order_id}, project ${project}, attempt ${attempt})`);
  out.push("", "You are reviewing the work of another agent. Do not edit any file: read, check, and judge.");
  out.push("", "## The task it was given");
  out.push(t.prompt ?? (t.command ? `Run the command ${t.command}` : "(no prompt)"));
  out.push("", "## Files it was allowed to edit");
  out.push(files.length ? files.map((f) => `- ${f}`).join("\n") : "(none)");
  if (t.result) out.push("", "## What the worker reported", t.result.trim());
  out.push("", "## The change", "```diff", targetDiff(t.root, files, base), "```");
  out.push(
    "",
    "## Your answer",
    "Check that the change does what the task asks, is correct, and stays within the allowed files.",
    "If something must change, say precisely what: your words are given to the next attempt.",
    "End your answer with exactly one line: `VERDICT: APPROVE` or `VERDICT: REJECT`.",
  );
  return `${out.join("\n")}\n`;
}
