/**
 * Tables `projects`, `orders`, `tasks`, `task_deps`, `task_files`: writing
 * what a task *is* (title, command, deps, target files...) as opposed to
 * where it stands (./transitions.ts). `writePlan` is the import transaction.
 *
 * Rewriting an existing task is guarded by `status = 'QUEUED'`: a task that
 * has started or finished is never changed by a plan, even if it moved on
 * between the caller's read and this write.
 */
import { and, eq } from "drizzle-orm";
import type Database from "better-sqlite3";
import type { Db, Store } from "./open.js";
import { stmt } from "./statements.js";
import { insertRows } from "./bulk-insert.js";
import { tasks, taskDeps, taskFiles, orders, projects } from "./schema.js";
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

/** Creates or updates a project; `allowedTools` null keeps what it has. */
export function upsertProject(db: Db, id: string, root: string, now: number, allowedTools: readonly string[] | null = null): void {
  const rules = rulesColumn(allowedTools);
  db.insert(projects)
    .values({ id, root, createdAt: now, allowedTools: rules ?? null })
    .onConflictDoUpdate({ target: projects.id, set: rules === undefined ? { root } : { root, allowedTools: rules } })
    .run();
}

/** Creates or updates an order; a null field keeps what the order has. */
export function upsertOrder(
  db: Db,
  projectId: string,
  id: string,
  title: string | null,
  now: number,
  extra: { allowedTools: readonly string[] | null; budgetUsd: number | null; preempt?: boolean | null } = { allowedTools: null, budgetUsd: null },
): void {
  const rules = rulesColumn(extra.allowedTools);
  const set: Partial<typeof orders.$inferInsert> = { projectId };
  if (title !== null) set.title = title;
  if (rules !== undefined) set.allowedTools = rules;
  if (extra.budgetUsd !== null) set.budgetUsd = extra.budgetUsd;
  if (extra.preempt != null) set.preempt = extra.preempt;
  db.insert(orders)
    .values({ projectId, id, title: title ?? "", createdAt: now, allowedTools: rules ?? null, budgetUsd: extra.budgetUsd, preempt: extra.preempt ?? false })
    .onConflictDoUpdate({ target: [orders.projectId, orders.id], set })
    .run();
}

/** New tasks with their deps and files; `sqlite` is the connection of the transaction `db` runs in. */
export function insertTasks(sqlite: Database.Database, projectId: string, orderId: string, specs: TaskSpec[], now: number): void {
  if (specs.length === 0) return;
  insertRows(
    sqlite,
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
  writeEdges(sqlite, projectId, specs);
}

/**
 * Rewrites a QUEUED task's definition (and its deps and files). Returns false,
 * writing nothing, when the task is no longer QUEUED.
 */
export function rewriteQueuedTask(db: Db, sqlite: Database.Database, projectId: string, t: TaskSpec, now: number): boolean {
  const changed = db
    .update(tasks)
    .set({ ...definitionColumns(t), status: t.status, updatedAt: now, finishedAt: finishedAtFor(t, now) })
    .where(and(eq(tasks.projectId, projectId), eq(tasks.id, t.id), eq(tasks.status, "QUEUED")))
    .run().changes;
  if (changed === 0) return false;
  db.delete(taskDeps).where(and(eq(taskDeps.projectId, projectId), eq(taskDeps.taskId, t.id))).run();
  db.delete(taskFiles).where(and(eq(taskFiles.projectId, projectId), eq(taskFiles.taskId, t.id))).run();
  writeEdges(sqlite, projectId, [t]);
  return true;
}

function writeEdges(sqlite: Database.Database, projectId: string, specs: TaskSpec[]): void {
  insertRows(
    sqlite,
    taskDeps,
    specs.flatMap((t) => t.deps.map((depId) => ({ projectId, taskId: t.id, depId, condition: t.depConditions.get(depId) ?? "success" }))),
  );
  insertRows(
    sqlite,
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
  store.db.transaction(
    (tx) => {
      const existing = loadProjectTasks(store, plan.project);
      check(existing);
      upsertProject(tx, plan.project, plan.root, now, plan.allowedTools);
      // The importing host's own root (its clone, with several hosts: docs/hosts.md).
      if (host !== undefined) setHostRoot(store, plan.project, host, plan.root, now);
      for (const order of plan.orders) {
        upsertOrder(tx, plan.project, order.id, order.title, now, order);
        const fresh: TaskSpec[] = [];
        for (const t of order.tasks) {
          const old = existing.get(t.id);
          if (!old) fresh.push(t);
          else if (old.status === "QUEUED" && rewriteQueuedTask(tx, store.sqlite, plan.project, t, now)) out.updated.push(t.id);
          else out.kept.push({ task: t.id, status: old.status });
        }
        insertTasks(store.sqlite, plan.project, order.id, fresh, now);
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
    },
    { behavior: "immediate" },
  );
  return out;
}
