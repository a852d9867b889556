/**
 * The store's better-sqlite3 statements (`?`, `@name`) rewritten for
 * PostgreSQL (`$1`…), and their arguments bound in PostgreSQL's order —
 * checked here on text, and against a real server with a statement of the
 * store as it is written today.
 */
import { describe, expect, it } from "vitest";
import { bindPg, toPg } from "../../src/store/pg/placeholders.js";
import { migratedPgDatabase } from "../helpers/pg-database.js";

describe("placeholders for PostgreSQL", () => {
  it("numbers ? in order", () => {
    expect(toPg("UPDATE runs SET owner_pid = ? WHERE project_id = ? AND task_id = ?")).toEqual({
      text: "UPDATE runs SET owner_pid = $1 WHERE project_id = $2 AND task_id = $3",
      names: null,
      count: 3,
    });
  });

  it("numbers named parameters once each, whatever their prefix", () => {
    const s = toPg("SELECT id FROM tasks WHERE id = @task AND (@project IS NULL OR project_id = @project) AND ts >= :since AND x = $other");
    expect(s.text).toBe("SELECT id FROM tasks WHERE id = $1 AND ($2 IS NULL OR project_id = $2) AND ts >= $3 AND x = $4");
    expect(s.names).toEqual(["task", "project", "since", "other"]);
    expect(bindPg(s, [{ since: 5, other: true, project: null, task: "T", unused: 1 }])).toEqual(["T", null, 5, true]);
  });

  it("leaves literals, quoted identifiers, comments and casts alone", () => {
    const sql = `SELECT '?' AS "a?", 'it''s @x' AS b, x::int -- what? @y
      /* ? :z */ FROM t WHERE c = ? AND d = 'O''Brien?'`;
    const s = toPg(sql);
    expect(s.count).toBe(1);
    expect(s.text).toBe(sql.replace("c = ?", "c = $1"));
  });

  it("binds positional arguments as better-sqlite3 takes them: spread or one array", () => {
    const s = toPg("SELECT ? , ?");
    expect(bindPg(s, ["a", 2])).toEqual(["a", 2]);
    expect(bindPg(s, [["a", 2]])).toEqual(["a", 2]);
  });

  it("refuses what better-sqlite3 refuses: a wrong count, undefined, a missing name, mixed styles", () => {
    expect(() => bindPg(toPg("SELECT ?"), [])).toThrow(/takes 1 parameters, got 0/);
    // A statement without parameters takes an empty bag, as better-sqlite3 does (status builds its WHERE so).
    expect(bindPg(toPg("SELECT 1"), [{}])).toEqual([]);
    expect(() => bindPg(toPg("SELECT 1"), ["x"])).toThrow(/takes 0 parameters, got 1/);
    expect(() => bindPg(toPg("SELECT ?"), [undefined])).toThrow(/cannot bind undefined/);
    expect(() => bindPg(toPg("SELECT @a"), [{}])).toThrow(/missing named parameter: a/);
    expect(() => bindPg(toPg("SELECT @a"), ["x"])).toThrow(/pass one object/);
    expect(() => toPg("SELECT ?, @a")).toThrow(/mixes/);
  });
});

describe("a store statement as written today, on a real PostgreSQL", () => {
  const pg = migratedPgDatabase();

  it("runs with its named parameters rewritten and bound, once its NULL test has a type", () => {
    pg.client.query("INSERT INTO projects (id, root, created_at) VALUES ($1, $2, $3)", ["p", "/r", 1]);
    pg.client.query(
      "INSERT INTO tasks (project_id, id, order_id, status, review, created_at, updated_at) VALUES ('p', 'A', 'O', 'QUEUED', false, 1, 1), ('p', 'B', 'O', 'DONE', false, 1, 1)",
    );
    // src/store/tasks-read.ts, as better-sqlite3 runs it: PostgreSQL cannot type a parameter that is only tested for NULL.
    const asWritten = `SELECT project_id AS project, order_id AS "order", id AS task, status, attempt FROM tasks WHERE id = @task AND (@project IS NULL OR project_id = @project) ORDER BY project_id`;
    const w = toPg(asWritten);
    expect(() => pg.client.query(w.text, bindPg(w, [{ task: "A", project: null }]))).toThrow(/could not determine data type of parameter \$2/);
    // The portable form (valid in SQLite too): CAST(@project AS TEXT) IS NULL.
    const s = toPg(asWritten.replace("(@project IS NULL", "(CAST(@project AS TEXT) IS NULL"));
    expect(pg.client.query(s.text, bindPg(s, [{ task: "A", project: null }]))).toEqual([{ project: "p", order: "O", task: "A", status: "QUEUED", attempt: 0 }]);
    expect(pg.client.query(s.text, bindPg(s, [{ task: "A", project: "other" }]))).toEqual([]);
  });
});
