/**
 * `aipm task add`: one task, validated by the same rules as a plan task and
 * written through the same transaction as an import. The project must exist;
 * the order is created when missing; the task id must be new.
 */
import type { Store } from "../store/open.js";
import { getProject, loadProjectTasks } from "../store/read-project.js";
import { usageError } from "../errors.js";
import { validateTask, checkId, type Problems } from "./validate.js";
import { applyPlan, type ImportResult } from "./import-plan.js";
import { MAX_PLAN_DEPTH, valueTooDeep } from "./nesting.js";
import { resolveTaskTargets } from "../paths/resolve-links.js";

export interface AddTaskInput {
  project: string;
  order: string;
  /** The task as a plan would give it (`id`, `title`, `deps`, `target_files`, `command` | `prompt`, ...). */
  task: Record<string, unknown>;
}

export function addTask(store: Store, input: AddTaskInput): ImportResult {
  const p: Problems = { errors: [], warnings: [] };
  checkId(input.project, "PROJECT", "project", p);
  checkId(input.order, "ORDER", "order", p);
  if (valueTooDeep(input.task)) p.errors.push(`task: nested more than ${MAX_PLAN_DEPTH} levels deep`);
  const spec = p.errors.length > 0 ? null : validateTask(input.task, "task", p);
  if (p.errors.length > 0 || !spec) throw usageError(p.errors[0] ?? "invalid task", p.errors.slice(1));
  const project = getProject(store, input.project);
  const linkErrors: string[] = [];
  spec.targetFiles = resolveTaskTargets(project.root, spec.targetFiles, "task.target_files", linkErrors);
  if (linkErrors.length > 0) throw usageError(linkErrors[0]!, linkErrors.slice(1));
  const old = loadProjectTasks(store, input.project).get(spec.id);
  if (old) throw usageError(`task ${spec.id} already exists in order ${old.orderId} of project ${input.project}`);
  return applyPlan(store, {
    project: input.project,
    root: project.root,
    allowedTools: null,
    orders: [{ id: input.order, title: null, tasks: [spec], allowedTools: null, budgetUsd: null, preempt: null, place: "task" }],
  });
}
