/**
 * Table `projects`, read and written outside a plan import: whether a
 * project exists, its root, the queue's project, usage-limit holds.
 * (./task-definitions.ts writes projects from plans; ./read-project.ts reads
 * one for the scheduler.)
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export function projectExists(store: Store, project: string): boolean {
  return stmt(store, "SELECT id FROM projects WHERE id = ?").get(project) !== undefined;
}

/** Creates the project with this root unless it exists (then it is left as it is). */
export function ensureProject(store: Store, project: string, root: string, now: number): void {
  stmt(store, "INSERT INTO projects (id, root, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(project, root, now);
}

export function projectRoot(store: Store, project: string): string | undefined {
  return stmt(store, "SELECT root FROM projects WHERE id = ?").pluck().get(project) as string | undefined;
}

/** Projects (one, or all) whose agent tasks a usage limit holds after `now`: until when (epoch ms) and why. */
export function agentHolds(store: Store, now: number, project?: string): Array<{ project: string; until: number; reason: string | null }> {
  return stmt(
    store,
    "SELECT id AS project, agent_hold_until AS until, agent_hold_reason AS reason FROM projects WHERE agent_hold_until > @now AND (CAST(@p AS TEXT) IS NULL OR id = @p)",
  ).all({ now, p: project ?? null }) as Array<{ project: string; until: number; reason: string | null }>;
}
