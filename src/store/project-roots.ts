/**
 * Table `project_roots`: each host's own root for a project. With several
 * hosts on one queue every host works in its own clone; `aipm import` run on a
 * host records the plan's root as that host's root (see docs/hosts.md, "Edits
 * across hosts"). An attempt runs in the root of the host that claimed it
 * (`runs.host`); a host with no row of its own falls back to `projects.root`
 * (one machine: nothing changes) unless git sync asks for a root of its own.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

/**
 * The root an attempt runs in, as an SQL expression over `t` (tasks), `r`
 * (the attempt's run, may be absent: NULL) and `p` (projects): the task's own
 * cwd (an enqueued command), else the attempt's host's root, else the project's.
 * Portable (SQLite and PostgreSQL).
 */
export const ATTEMPT_ROOT_SQL =
  "COALESCE(t.cwd, (SELECT pr.root FROM project_roots pr WHERE pr.project_id = t.project_id AND pr.host = r.host), p.root)";

/** The statements of this module, portable (tests/pg/project-roots.test.ts runs them on PostgreSQL). */
export const PROJECT_ROOTS_SQL = {
  set: `INSERT INTO project_roots (project_id, host, root, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (project_id, host) DO UPDATE SET root = excluded.root, updated_at = excluded.updated_at`,
  get: "SELECT root FROM project_roots WHERE project_id = ? AND host = ?",
  effective:
    "SELECT COALESCE((SELECT pr.root FROM project_roots pr WHERE pr.project_id = p.id AND pr.host = ?), p.root) AS root FROM projects p WHERE p.id = ?",
} as const;

/** Records `root` as `host`'s root for the project (the project must exist). */
export function setHostRoot(store: Store, project: string, host: string, root: string, now: number): void {
  stmt(store, PROJECT_ROOTS_SQL.set).run(project, host, root, now);
}

/** This host's own root for the project, or undefined when it has none. */
export function hostRoot(store: Store, project: string, host: string): string | undefined {
  return stmt(store, PROJECT_ROOTS_SQL.get).pluck().get(project, host) as string | undefined;
}

/** Where this host runs the project's tasks: its own root, else the project's; undefined for an unknown project. */
export function effectiveRoot(store: Store, project: string, host: string): string | undefined {
  return stmt(store, PROJECT_ROOTS_SQL.effective).pluck().get(host, project) as string | undefined;
}
