/**
 * What a worker's prompt and a reviewer's prompt read: the task with its
 * order's and project's titles and rules, and the results of the tasks it
 * depends on (tables `tasks`, `orders`, `projects`, `task_deps`, `runs`).
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { ATTEMPT_ROOT_SQL } from "./project-roots.js";

export interface AgentPromptInput {
  title: string;
  prompt: string | null;
  review_feedback: string | null;
  order_title: string | null;
  order_id: string;
  project_tools: string | null;
  order_tools: string | null;
  task_tools: string | null;
}

export function agentPromptInput(store: Store, project: string, task: string): AgentPromptInput {
  return stmt(
    store,
    `SELECT t.title, t.prompt, t.review_feedback, o.title AS order_title, t.order_id,
            p.allowed_tools AS project_tools, o.allowed_tools AS order_tools, t.allowed_tools AS task_tools
       FROM tasks t JOIN projects p ON p.id = t.project_id
       LEFT JOIN orders o ON o.project_id = t.project_id AND o.id = t.order_id
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as AgentPromptInput;
}

/** The task's dependencies, in launch order, with their results and their current attempt's log. */
export function dependencyResults(store: Store, project: string, task: string): Array<{ id: string; title: string; result: string | null; log_path: string | null }> {
  return stmt(
    store,
    `SELECT t.id, t.title, t.result, r.log_path FROM task_deps d JOIN tasks t ON t.project_id = d.project_id AND t.id = d.dep_id
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
      WHERE d.project_id = ? AND d.task_id = ? ORDER BY t.seq`,
  ).all(project, task) as Array<{ id: string; title: string; result: string | null; log_path: string | null }>;
}

export interface ReviewPromptInput {
  title: string;
  prompt: string | null;
  command: string | null;
  result: string | null;
  order_id: string;
  root: string;
  scope_base: string | null;
}

/** The reviewed task and the scope base of the reviewed attempt. */
export function reviewPromptInput(store: Store, project: string, task: string, attempt: number): ReviewPromptInput {
  return stmt(
    store,
    `SELECT t.title, t.prompt, t.command, t.result, t.order_id, ${ATTEMPT_ROOT_SQL} AS root, r.scope_base
       FROM tasks t JOIN projects p ON p.id = t.project_id
       LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = ?
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(attempt, project, task) as ReviewPromptInput;
}
