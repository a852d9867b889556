/**
 * The prompt an agent worker receives: the task's title and prompt, the
 * order's title, the files it may edit (and the rule that only those may be
 * edited), what else it may run (the plan's `allowed_tools`: anything else
 * is refused), how to report progress (`aipm progress`), the final results
 * of its finished dependencies (an agent's last answer; a command's last
 * lines of output), and the feedback of a rejected review on the next attempt.
 */
import type { Store } from "../store/open.js";
import { stmt } from "../store/statements.js";
import { readTail } from "../util/tail.js";
import { mergeRuleLists } from "../agent/permissions.js";

interface PromptRow {
  title: string;
  prompt: string | null;
  review_feedback: string | null;
  order_title: string | null;
  order_id: string;
  project_tools: string | null;
  order_tools: string | null;
  task_tools: string | null;
}

const MAX_DEP_RESULT = 1500;

/** A command's result, for the tasks after it: the last lines of its output. */
function outputTail(logPath: string): string {
  const lines = readTail(logPath, 4096).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  return lines.slice(-15).join("\n");
}

export function buildAgentPrompt(store: Store, project: string, task: string): string {
  const t = stmt(
    store,
    `SELECT t.title, t.prompt, t.review_feedback, o.title AS order_title, t.order_id,
            p.allowed_tools AS project_tools, o.allowed_tools AS order_tools, t.allowed_tools AS task_tools
       FROM tasks t JOIN projects p ON p.id = t.project_id
       LEFT JOIN orders o ON o.project_id = t.project_id AND o.id = t.order_id
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as PromptRow;
  const files = stmt(store, "SELECT path FROM task_files WHERE project_id = ? AND task_id = ? ORDER BY position")
    .pluck()
    .all(project, task) as string[];
  const deps = stmt(
    store,
    `SELECT t.id, t.title, t.result, r.log_path FROM task_deps d JOIN tasks t ON t.project_id = d.project_id AND t.id = d.dep_id
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE d.project_id = ? AND d.task_id = ? ORDER BY t.seq`,
  ).all(project, task) as Array<{ id: string; title: string; result: string | null; log_path: string | null }>;

  const out: string[] = [];
  out.push(`# Task ${task}${t.title ? `: ${t.title}` : ""}`);
  out.push(`Order ${t.order_id}${t.order_title ? `: ${t.order_title}` : ""} (project ${project}).`);
  out.push("", t.prompt ?? "");
  out.push("", "## Files you may edit");
  if (files.length) {
    out.push(...files.map((f) => `- ${f}`));
    out.push("Edit only these files (globs included). Other workers are editing other files of this repository at the same time: do not touch anything else.");
  } else {
    out.push("None: do not edit any file of the repository.");
  }
  const tools = mergeRuleLists(t.project_tools, t.order_tools, t.task_tools);
  out.push("", "## What you may run");
  out.push(
    tools.length
      ? `Besides reading any file and editing the files above: ${tools.join(", ")}. Anything else is refused; do not ask for it.`
      : "You may read any file and edit the files above; no other command or tool is allowed, so do not try.",
  );
  out.push("Report progress as you go with `aipm progress DONE/TOTAL \"what you are on\"` (for example `aipm progress 2/5 \"tests\"`).");
  if (deps.length) {
    out.push("", "## Finished before you");
    for (const d of deps) {
      const result = (d.result ?? (d.log_path ? outputTail(d.log_path) : "")).trim();
      const short = result.length > MAX_DEP_RESULT ? `${result.slice(0, MAX_DEP_RESULT)}...` : result;
      out.push(`- ${d.id}${d.title ? ` (${d.title})` : ""}${short ? `: ${short}` : ""}`);
    }
  }
  if (t.review_feedback) {
    out.push("", "## Review of your previous attempt", "A reviewer rejected the previous attempt with this feedback; address it:", t.review_feedback);
  }
  return `${out.join("\n")}\n`;
}
