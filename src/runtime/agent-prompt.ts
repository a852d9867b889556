/**
 * The prompt an agent worker receives: the task's title and prompt, the
 * order's title, the files it may edit (and the rule that only those may be
 * edited), what else it may run (the plan's `allowed_tools`: anything else
 * is refused), how to report progress (`aipm progress`), the final results
 * of its finished dependencies (an agent's last answer; a command's last
 * lines of output), and the feedback of a rejected review on the next attempt.
 */
import type { Store } from "../store/open.js";
import { agentPromptInput, dependencyResults } from "../store/prompt-inputs.js";
import { targetFiles } from "../store/tasks-read.js";
import { readTail } from "../util/tail.js";
import { mergeRuleLists } from "../agent/permissions.js";

const MAX_DEP_RESULT = 1500;

/** A command's result, for the tasks after it: the last lines of its output. */
function outputTail(logPath: string): string {
  const lines = readTail(logPath, 4096).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  return lines.slice(-15).join("\n");
}

export function buildAgentPrompt(store: Store, project: string, task: string): string {
  const t = agentPromptInput(store, project, task);
  const files = targetFiles(store, project, task);
  const deps = dependencyResults(store, project, task);

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
