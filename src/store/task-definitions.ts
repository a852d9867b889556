/**
 * Tables `projects`, `orders`, `tasks`, `task_deps`, `task_files`: writing
 * what a task *is* (title, command, deps, target files...) as opposed to
 * where it stands (./transitions.ts). `writePlan` is the import transaction.
 *
 * Rewriting an existing task is guarded by `status = 'QUEUED'`: a task that
 * has started or finished is never changed by a plan, even if it moved on
 * between the caller's read and this write.
 *
 * Prepared statements in both engines' syntax (upserts are `ON CONFLICT …
 * DO UPDATE`), run inside the caller's `store.conn.transaction`: drizzle's
 * synchronous query builder exists only for SQLite.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { insertRows } from "./bulk-insert.js";
import { tasks, taskDeps, taskFiles } from "./schema.js";
import type { PlanSpec, TaskSpec } from "../plan/spec.js";
import { loadProjectTasks, type TaskNode } from "./read-project.js";
import { appendEvent } from "./events.js";
import { skipUnmeetable } from "./skip-unmeetable.js";
import { setHostRoot } from "./project-roots.js";

function definitionColumns(t: TaskSpec) {
  return {
    title: t.title,
    priority: t.priority,
    command: t.command === null ? null : JSON.stringify(t.command),
    prompt: t.prompt,
    timeoutS: t.timeoutS,
    maxAttempts: t.maxAttempts,
    model: t.model,
    review: t.review,
    allowedTools: t.allowedTools.length ? JSON.stringify(t.allowedTools) : null,
    maxTurns: t.maxTurns,
    maxBudgetUsd: t.maxBudgetUsd,
    stallWarnS: t.stallWarnS ? JSON.stringify(t.stallWarnS) : null,
    stallKillS: t.stallKillS,
    runsOn: t.runsOn.length ? JSON.stringify(t.runsOn) : null,
  };
}

function finishedAtFor(t: TaskSpec, now: number): number | null {
  return t.status === "QUEUED" ? null : now;
}

function rulesColumn(rules: readonly string[] | null): string | null | undefined {
  if (rules === null) return undefined;
  return rules.length ? JSON.stringify(rules) : null;
}

const UPSERT_PROJECT = `INSERT INTO projects (id, root, created_at, allowed_tools) VALUES (?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET root = excluded.root, allowed_tools = excluded.allowed_tools`;
const UPSERT_PROJECT_KEEP_RULES = `INSERT INTO projects (id, root, created_at, allowed_tools) VALUES (?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET root = excluded.root`;

/** Creates or updates a project; `allowedTools` null keeps what it has. */
export function upsertProject(store: Store, id: string, root: string, now: number, allowedTools: readonly string[] | null = null): void {
  const rules = rulesColumn(allowedTools);
  stmt(store, rules === undefined ? UPSERT_PROJECT_KEEP_RULES : UPSERT_PROJECT).run(id, root, now, rules ?? null);
}

/** Creates or updates an order; a null field keeps what the order has. */
export function upsertOrder(
  store: Store,
  projectId: string,
  id: string,
  title: string | null,
  now: number,
  extra: { allowedTools: readonly string[] | null; budgetUsd: number | null; preempt?: boolean | null } = { allowedTools: null, budgetUsd: null },
): void {
  const rules = rulesColumn(extra.allowedTools);
  // A null parameter keeps the order's value (`setRules` 0 keeps its rules: null there means "none").
  stmt(
    store,
    `INSERT INTO orders (project_id, id, title, created_at, allowed_tools, budget_usd, preempt)
       VALUES (@project, @id, COALESCE(@title, ''), @now, @rules, @budget, COALESCE(@preempt, FALSE))
     ON CONFLICT (project_id, id) DO UPDATE SET
       title = COALESCE(@title, orders.title),
       allowed_tools = CASE WHEN @setRules = 1 THEN excluded.allowed_tools ELSE orders.allowed_tools END,
       budget_usd = COALESCE(@budget, orders.budget_usd),
       preempt = COALESCE(@preempt, orders.preempt)`,
  ).run({
    project: projectId,
    id,
    title,
    now,
    rules: rules ?? null,
    setRules: rules === undefined ? 0 : 1,
    budget: extra.budgetUsd,
    preempt: extra.preempt == null ? null : extra.preempt ? 1 : 0,
  });
}

/** New tasks with their deps and files (inside the caller's transaction). */
export function insertTasks(store: Store, projectId: string, orderId: string, specs: TaskSpec[], now: number): void {
  if (specs.length === 0) return;
  insertRows(
    store,
    tasks,
    specs.map((t) => ({
      projectId,
      id: t.id,
      orderId,
      status: t.status,
      ...definitionColumns(t),
      createdAt: now,
      updatedAt: now,
      finishedAt: finishedAtFor(t, now),
    })),
  );
  writeEdges(store, projectId, specs);
}

/**
 * Rewrites a QUEUED task's definition (and its deps and files). Returns false,
 * writing nothing, when the task is no longer QUEUED.
 */
export function rewriteQueuedTask(store: Store, projectId: string, t: TaskSpec, now: number): boolean {
  const c = definitionColumns(t);
  const changed = stmt(
    store,
    `UPDATE tasks SET title = @title, priority = @priority, command = @command, prompt = @prompt, timeout_s = @timeoutS,
            max_attempts = @maxAttempts, model = @model, review = @review, allowed_tools = @allowedTools, max_turns = @maxTurns,
            max_budget_usd = @maxBudgetUsd, stall_warn_s = @stallWarnS, stall_kill_s = @stallKillS, runs_on = @runsOn,
            status = @status, updated_at = @now, finished_at = @finished
      WHERE project_id = @project AND id = @id AND status = 'QUEUED'`,
  ).run({ ...c, review: c.review ? 1 : 0, status: t.status, now, finished: finishedAtFor(t, now), project: projectId, id: t.id }).changes;
  if (changed === 0) return false;
  stmt(store, "DELETE FROM task_deps WHERE project_id = ? AND task_id = ?").run(projectId, t.id);
  stmt(store, "DELETE FROM task_files WHERE project_id = ? AND task_id = ?").run(projectId, t.id);
  writeEdges(store, projectId, [t]);
  return true;
}

function writeEdges(store: Store, projectId: string, specs: TaskSpec[]): void {
  insertRows(
    store,
    taskDeps,
    specs.flatMap((t) => t.deps.map((depId) => ({ projectId, taskId: t.id, depId, condition: t.depConditions.get(depId) ?? "success" }))),
  );
  insertRows(
    store,
    taskFiles,
    specs.flatMap((t) => t.targetFiles.map((path, position) => ({ projectId, taskId: t.id, position, path }))),
  );
}


/** Where an enqueued command runs (the directory it was enqueued from). */
export function setTaskCwd(store: Store, projectId: string, taskId: string, cwd: string): void {
  stmt(store, "UPDATE tasks SET cwd = ? WHERE project_id = ? AND id = ?").run(cwd, projectId, taskId);
}

export interface PlanWrite {
  added: string[];
  updated: string[];
  /** Tasks the plan names that were left alone because they are no longer QUEUED. */
  kept: Array<{ task: string; status: string }>;
}

/**
 * Writes a validated plan in one IMMEDIATE transaction, all or nothing: new
 * tasks are added, QUEUED ones rewritten, the others kept; a task that
 * depends on one already ended in a way its condition excludes is SKIPPED;
 * one `plan_imported` event; with `host`, the plan's root becomes that
 * host's own root for the project. `check` sees the project's tasks as they are
 * inside the transaction and throws to write nothing.
 */
export function writePlan(
  store: Store,
  plan: PlanSpec,
  now: number,
  check: (existing: ReadonlyMap<string, TaskNode>) => void,
  host?: string,
): PlanWrite {
  const out: PlanWrite = { added: [], updated: [], kept: [] };
  store.conn
    .transaction(() => {
      const existing = loadProjectTasks(store, plan.project);
      check(existing);
      upsertProject(store, plan.project, plan.root, now, plan.allowedTools);
      // The importing host's own root (its clone, with several hosts: docs/hosts.md).
      if (host !== undefined) setHostRoot(store, plan.project, host, plan.root, now);
      for (const order of plan.orders) {
        upsertOrder(store, plan.project, order.id, order.title, now, order);
        const fresh: TaskSpec[] = [];
        for (const t of order.tasks) {
          const old = existing.get(t.id);
          if (!old) fresh.push(t);
          else if (old.status === "QUEUED" && rewriteQueuedTask(store, plan.project, t, now)) out.updated.push(t.id);
          else out.kept.push({ task: t.id, status: old.status });
        }
        insertTasks(store, plan.project, order.id, fresh, now);
        out.added.push(...fresh.map((t) => t.id));
      }
      // A task that depends on one already ended in a way its condition excludes is SKIPPED now.
      const ended = new Set<string>();
      for (const order of plan.orders) {
        for (const t of order.tasks) for (const d of t.deps) if (existing.get(d) && existing.get(d)!.status !== "QUEUED") ended.add(d);
      }
      if (ended.size > 0) skipUnmeetable(store, now, plan.project, [...ended]);
      appendEvent(
        store,
        {
          kind: "plan_imported",
          projectId: plan.project,
          data: { orders: plan.orders.map((o) => o.id), added: out.added.length, updated: out.updated.length },
        },
        now,
      );
    })
    .immediate();
  return out;
}
