/**
 * `aipm import`: validate a whole plan, then write it in one IMMEDIATE
 * transaction, all or nothing. New tasks are added; QUEUED tasks are
 * rewritten; tasks that have started or finished are left exactly as they are.
 */
import { mkdirSync } from "node:fs";
import type { Store } from "../store/open.js";
import { writePlan } from "../store/task-definitions.js";
import { usageError } from "../errors.js";
import type { PlanSpec } from "./spec.js";
import { validatePlan } from "./validate.js";
import { checkAgainstProject } from "./check-graph.js";
import { newLinkCache, resolveTaskTargets } from "../paths/resolve-links.js";

export interface ImportResult {
  project: string;
  root: string;
  orders: string[];
  added: string[];
  updated: string[];
  /** Tasks the plan names that were left alone because they are no longer QUEUED. */
  kept: Array<{ task: string; status: string }>;
  warnings: string[];
}

/** A plan that passed every check that needs no database. */
export interface PreparedPlan {
  plan: PlanSpec;
  warnings: string[];
}

/**
 * Every check that needs no database (fields, ids, paths). With `newProject`
 * (the database or the project does not exist yet) also the graph checks
 * (unknown dependencies, cycles), so that bad input is refused before a
 * database is created. Throws a usage error listing every problem.
 */
export function preparePlan(data: unknown, baseDir: string, opts: { newProject?: boolean } = {}): PreparedPlan {
  const { plan, problems } = validatePlan(data, baseDir);
  if (problems.errors.length > 0) throw invalid(problems.errors);
  const linkErrors: string[] = [];
  const links = newLinkCache();
  for (const o of plan.orders) {
    for (const t of o.tasks) t.targetFiles = resolveTaskTargets(plan.root, t.targetFiles, `${t.place}.target_files`, linkErrors, links);
  }
  if (linkErrors.length > 0) throw invalid(linkErrors);
  if (opts.newProject) {
    const errors = checkAgainstProject(plan, new Map());
    if (errors.length > 0) throw invalid(errors);
  }
  return { plan, warnings: problems.warnings };
}

/** Imports a prepared plan (re-checked against the project inside the write) and creates its root. */
export function importPrepared(store: Store, prepared: PreparedPlan, host?: string): ImportResult {
  const result = applyPlan(store, prepared.plan, host);
  result.warnings = prepared.warnings;
  mkdirSync(prepared.plan.root, { recursive: true });
  return result;
}

/** Validates and imports a parsed plan document. Throws a usage error listing every problem. */
export function importPlan(store: Store, data: unknown, baseDir: string, host?: string): ImportResult {
  return importPrepared(store, preparePlan(data, baseDir), host);
}

function invalid(errors: string[]) {
  const n = errors.length;
  return usageError(`invalid plan (${n} problem${n === 1 ? "" : "s"}), nothing was imported:`, errors);
}

/**
 * Writes a validated plan; re-checks it against the project inside the
 * transaction. `host`: the importing host, whose own root the plan's root
 * becomes (`aipm import` and the MCP import pass it; enqueue and task add do not).
 */
export function applyPlan(store: Store, plan: PlanSpec, host?: string): ImportResult {
  const now = store.now();
  const result: ImportResult = {
    project: plan.project,
    root: plan.root,
    orders: plan.orders.map((o) => o.id),
    added: [],
    updated: [],
    kept: [],
    warnings: [],
  };
  const written = writePlan(
    store,
    plan,
    now,
    (existing) => {
      const errors = checkAgainstProject(plan, existing);
      if (errors.length > 0) throw invalid(errors);
    },
    host,
  );
  result.added.push(...written.added);
  result.updated.push(...written.updated);
  result.kept.push(...written.kept);
  return result;
}
