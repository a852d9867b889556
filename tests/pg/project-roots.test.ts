/**
 * Git sync's statements (each host's own root, what this host's running tasks
 * hold) are written once for both engines: here they run on a real
 * PostgreSQL server as the store runs them on SQLite (placeholders rewritten
 * by toPg), with the same answers.
 */
import { describe, expect, it } from "vitest";
import { bindPg, toPg } from "../../src/store/pg/placeholders.js";
import { ATTEMPT_ROOT_SQL, PROJECT_ROOTS_SQL } from "../../src/store/project-roots.js";
import { HELD_ON_HOST_SQL } from "../../src/store/runs.js";
import { migratedPgDatabase } from "../helpers/pg-database.js";

describe("project roots and held files on PostgreSQL", () => {
  const pg = migratedPgDatabase();
  const run = <T = Record<string, unknown>>(sql: string, ...args: unknown[]): T[] => {
    const s = toPg(sql);
    return pg.client.query<T>(s.text, bindPg(s, args) as never);
  };

  it("a host's root is recorded and replaced; an attempt runs in its host's root, else the project's", () => {
    pg.client.query("INSERT INTO projects (id, root, created_at) VALUES ('p', '/shared', 1)");
    run(PROJECT_ROOTS_SQL.set, "p", "h1", "/h1/clone", 1);
    run(PROJECT_ROOTS_SQL.set, "p", "h1", "/h1/clone2", 2);
    expect(run(PROJECT_ROOTS_SQL.get, "p", "h1")).toEqual([{ root: "/h1/clone2" }]);
    expect(run(PROJECT_ROOTS_SQL.get, "p", "h2")).toEqual([]);
    expect(run(PROJECT_ROOTS_SQL.effective, "h1", "p")).toEqual([{ root: "/h1/clone2" }]);
    expect(run(PROJECT_ROOTS_SQL.effective, "h2", "p")).toEqual([{ root: "/shared" }]);

    pg.client.query(
      `INSERT INTO tasks (project_id, id, order_id, status, review, attempt, created_at, updated_at) VALUES
         ('p', 'A', 'O', 'IN_PROGRESS', false, 1, 1, 1), ('p', 'B', 'O', 'REVIEW', false, 1, 1, 1), ('p', 'C', 'O', 'IN_PROGRESS', false, 1, 1, 1),
         ('p', 'D', 'O', 'DONE', false, 1, 1, 1)`,
    );
    pg.client.query(
      `INSERT INTO runs (project_id, task_id, attempt, log_path, started_at, host) VALUES
         ('p', 'A', 1, '/l', 1, 'h1'), ('p', 'B', 1, '/l', 1, 'h1'), ('p', 'C', 1, '/l', 1, 'h2'), ('p', 'D', 1, '/l', 1, 'h1')`,
    );
    pg.client.query("INSERT INTO task_files (project_id, task_id, position, path) VALUES ('p', 'A', 0, 'a.txt'), ('p', 'A', 1, 'src/**'), ('p', 'C', 0, 'c.txt')");
    const roots = run<{ task: string; root: string }>(
      `SELECT t.id AS task, ${ATTEMPT_ROOT_SQL} AS root FROM tasks t JOIN projects p ON p.id = t.project_id
         LEFT JOIN runs r ON r.project_id = t.project_id AND r.task_id = t.id AND r.attempt = t.attempt
        WHERE t.project_id = ? ORDER BY t.id`,
      "p",
    );
    expect(roots).toEqual([
      { task: "A", root: "/h1/clone2" },
      { task: "B", root: "/h1/clone2" },
      { task: "C", root: "/shared" },
      { task: "D", root: "/h1/clone2" },
    ]);
    const held = run<{ task: string; ord: string; path: string | null }>(`${HELD_ON_HOST_SQL} ORDER BY t.id, f.position`, "p", "h1");
    expect(held).toEqual([
      { task: "A", ord: "O", path: "a.txt" },
      { task: "A", ord: "O", path: "src/**" },
      { task: "B", ord: "O", path: null },
    ]);
  });
});
