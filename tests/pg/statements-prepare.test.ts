/**
 * Every SQL statement of src/store/ is valid on both engines: each one is
 * prepared on a migrated SQLite database (better-sqlite3 `prepare`) and on a
 * migrated PostgreSQL database (`PREPARE … AS` with its placeholders
 * rewritten by toPg, then DEALLOCATE). PREPARE parses and analyses the
 * statement: unknown functions and columns, type mismatches, parameters
 * whose type cannot be determined and GROUP BY errors all fail here.
 *
 * The statements are the SQL literals of src/store/ and bench/ (./store-sql.ts,
 * the census's extraction). A template built at run time (`${…}`) is prepared in
 * representative instances: a dialect helper call (src/store/dialect.ts) is
 * evaluated for each engine, a named fragment is taken from FRAGMENTS, and
 * every other expression must have its values in DYNAMIC below — a new
 * template without them fails this test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTableColumns, getTableName } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dialect from "../../src/store/dialect.js";
import { MACHINE_SAMPLE_COLUMNS } from "../../src/store/machine-samples.js";
import { ATTEMPT_ROOT_SQL } from "../../src/store/project-roots.js";
import { openStore, type Store } from "../../src/store/open.js";
import { bindPg, toPg } from "../../src/store/pg/placeholders.js";
import { taskDeps, taskFiles, tasks } from "../../src/store/schema.js";
import { pgAvailable } from "../helpers/pg-cluster.js";
import { migratedPgDatabase } from "../helpers/pg-database.js";
import { type SqlLiteral, sourceFiles, sqlLiterals, storeStatements } from "./store-sql.js";

type Kind = dialect.DbKind;
/** Values of a template's expressions: one object per instance to prepare. */
type Bindings = (kind: Kind) => Array<Record<string, string>>;

function bulkInsert(table: SQLiteTable): Record<string, string> {
  const cols = Object.values(getTableColumns(table));
  return {
    "getTableName(table)": getTableName(table),
    'names.join(", ")': cols.map((c) => `"${c.name}"`).join(", "),
    'keys.map(() => "?").join(", ")': cols.map(() => "?").join(", "),
  };
}

/** The templates built at run time, by file and a piece of their text, with representative values. */
const DYNAMIC: Array<{ file: string; has: string; bindings: Bindings }> = [
  {
    file: "src/store/bulk-insert.ts",
    has: "INSERT INTO",
    bindings: () => [bulkInsert(tasks), bulkInsert(taskDeps), bulkInsert(taskFiles)],
  },
  {
    file: "src/store/events.ts",
    has: "kind IN (",
    bindings: () => [
      { list: "'task_done'", "Math.trunc(limit)": "1" },
      { list: "'task_done', 'task_failed', 'order_finished'", "Math.trunc(limit)": "500" },
    ],
  },
  {
    file: "src/store/status-reads.ts",
    has: "ORDER BY t.project_id, t.seq",
    bindings: () =>
      ["WHERE t.project_id = @project AND t.order_id = @order", "WHERE t.project_id = @project", "WHERE t.order_id = @order", ""].map((where) => ({ where })),
  },
];

/** SQL fragments that statements interpolate by name (`${ATTEMPT_ROOT_SQL}`), in any file: the exported constant itself. */
const FRAGMENTS: Record<string, string> = {
  ATTEMPT_ROOT_SQL,
  COLUMNS: MACHINE_SAMPLE_COLUMNS,
};

/** Statements that are SQLite's own by design (the SQLite backend's catalog, in the lead's open.ts). */
const SQLITE_ONLY: Array<{ file: string; has: string }> = [
  { file: "src/store/open.ts", has: "sqlite_master" },
  { file: "src/store/open.ts", has: "__drizzle_migrations" },
];

/** The statements of src/store/, and those the benchmarks run against a store (bench/). */
function allStatements(): SqlLiteral[] {
  return [...storeStatements(), ...sourceFiles("bench").flatMap(sqlLiterals)];
}

const HELPER_CALL = /^(\w+)\((?:store\.kind|kind), (.*)\)$/s;

/** A dialect helper call with string-literal arguments, evaluated for `kind`; null when `expr` is not one. */
function dialectCall(expr: string, kind: Kind): string | null {
  const m = HELPER_CALL.exec(expr.trim());
  if (!m) return null;
  const fn = (dialect as unknown as Record<string, unknown>)[m[1]!];
  if (typeof fn !== "function") return null;
  const args = JSON.parse(`[${m[2]}]`) as string[];
  return (fn as (k: Kind, ...a: string[]) => string)(kind, ...args);
}

interface Instance {
  where: string;
  sql: string;
}

function dynamicEntry(s: SqlLiteral) {
  return DYNAMIC.find((d) => d.file === s.file && s.raw.includes(d.has));
}

/** The statement texts to prepare for `kind`, or an error for a template nobody described. */
function instances(kind: Kind): { list: Instance[]; uncovered: string[] } {
  const list: Instance[] = [];
  const uncovered: string[] = [];
  for (const s of allStatements()) {
    if (kind === "postgres" && SQLITE_ONLY.some((o) => o.file === s.file && s.raw.includes(o.has))) continue;
    const where = `${s.file}:${s.line}`;
    if (s.exprs.length === 0) {
      list.push({ where, sql: s.raw });
      continue;
    }
    const entry = dynamicEntry(s);
    const all = entry ? entry.bindings(kind) : [{}];
    for (const [n, values] of all.entries()) {
      let missing: string | null = null;
      let out = "";
      let rest = s.raw;
      for (const e of s.exprs) {
        const at = rest.indexOf(`\${${e}}`);
        const value = dialectCall(e, kind) ?? values[e] ?? FRAGMENTS[e];
        if (value === undefined) missing ??= e;
        out += rest.slice(0, at) + (value ?? "");
        rest = rest.slice(at + e.length + 3);
      }
      if (missing !== null) {
        uncovered.push(`${where}: \${${missing}} has no representative value (add it to DYNAMIC)`);
        break;
      }
      list.push({ where: all.length > 1 ? `${where} #${n + 1}` : where, sql: out + rest });
    }
  }
  return { list, uncovered };
}

/** What the dialect helpers answer on one engine (`run`: a statement with `?` placeholders, its rows); the same on both. */
function helperAnswers(kind: Kind, run: (sql: string, params: unknown[]) => Array<Record<string, unknown>>): unknown {
  const { jsonNumber, jsonArrayAgg } = dialect;
  const doc = `SELECT '{"budget_usd": 2.5, "n": 3}' AS d UNION ALL SELECT '{}'`;
  const values = "SELECT 'x' AS v, 1 AS k UNION ALL SELECT NULL, 1 UNION ALL SELECT '[\"a\"]', 1 UNION ALL SELECT NULL, 2";
  return {
    numbers: run(`SELECT ${jsonNumber(kind, "d", "budget_usd")} AS b, ${jsonNumber(kind, "d", "n")} AS n FROM (${doc}) s`, []),
    equal: run(`SELECT COUNT(*) AS c FROM (${doc}) s WHERE ${jsonNumber(kind, "d", "budget_usd")} = ?`, [2.5]),
    arrays: run(`SELECT k, ${jsonArrayAgg(kind, "v", "v IS NOT NULL")} AS a FROM (${values}) s GROUP BY k ORDER BY k`, []).map((r) => ({
      k: r.k,
      a: JSON.parse(r.a as string),
    })),
  };
}

const HELPER_ANSWERS = {
  numbers: [
    { b: 2.5, n: 3 },
    { b: null, n: null },
  ],
  equal: [{ c: 1 }],
  arrays: [
    { k: 1, a: ["x", '["a"]'] },
    { k: 2, a: [] },
  ],
};

function describeFailures(fails: Array<{ where: string; sql: string; error: string }>): string {
  return fails.map((f) => `${f.where}: ${f.error}\n    ${f.sql.replace(/\s+/g, " ").trim().slice(0, 400)}`).join("\n");
}

describe("the store's statements", () => {
  it("are found, and every template has representative values", () => {
    const { list, uncovered } = instances("sqlite");
    expect(uncovered).toEqual([]);
    expect(list.length).toBeGreaterThan(150);
    // Every DYNAMIC and SQLITE_ONLY entry still describes a statement of the source.
    const templates = storeStatements().filter((s) => s.exprs.length > 0);
    for (const d of DYNAMIC) expect(templates.some((s) => s.file === d.file && s.raw.includes(d.has)), `${d.file}: ${d.has}`).toBe(true);
    for (const o of SQLITE_ONLY) expect(storeStatements().some((s) => s.file === o.file && s.raw.includes(o.has)), `${o.file}: ${o.has}`).toBe(true);
  });

  it("quote every camelCase alias (PostgreSQL folds an unquoted name to lower case: the row's key would change)", () => {
    const unquoted = storeStatements()
      .filter((s) => /\bAS\s+[a-z]+[A-Z]\w*/.test(s.raw))
      .map((s) => `${s.file}:${s.line}: ${s.sql.slice(0, 200)}`);
    expect(unquoted).toEqual([]);
  });
});

describe("every store statement prepares on a migrated SQLite database", () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "aipm-prepare-"));
    store = await openStore({ db: join(dir, "aipm.db"), orm: false });
  });
  afterAll(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("better-sqlite3 prepare", () => {
    const fails: Array<{ where: string; sql: string; error: string }> = [];
    for (const s of instances("sqlite").list) {
      try {
        store.sqlite.prepare(s.sql);
      } catch (e) {
        fails.push({ ...s, error: (e as Error).message });
      }
    }
    expect(describeFailures(fails)).toBe("");
  });

  it("the dialect helpers' answers", () => {
    expect(helperAnswers("sqlite", (sql, params) => store.sqlite.prepare(sql).all(...params) as Array<Record<string, unknown>>)).toEqual(HELPER_ANSWERS);
  });
});

describe.skipIf(!pgAvailable())("every store statement prepares on a migrated PostgreSQL database", () => {
  const db = migratedPgDatabase();

  it("PREPARE … AS (placeholders rewritten by toPg), then DEALLOCATE", () => {
    const fails: Array<{ where: string; sql: string; error: string }> = [];
    const { list } = instances("postgres");
    for (const [n, s] of list.entries()) {
      let text: string;
      try {
        text = toPg(s.sql).text;
      } catch (e) {
        fails.push({ ...s, error: (e as Error).message });
        continue;
      }
      try {
        db.client.exec(`PREPARE s_${n} AS ${text}`);
        db.client.exec(`DEALLOCATE s_${n}`);
      } catch (e) {
        fails.push({ where: s.where, sql: text, error: (e as Error).message });
      }
    }
    expect(describeFailures(fails)).toBe("");
    expect(list.length).toBeGreaterThan(150);
  });

  it("the dialect helpers' answers, the same as on SQLite", () => {
    const run = (sql: string, params: unknown[]) => {
      const s = toPg(sql);
      return db.client.query(s.text, bindPg(s, params));
    };
    expect(helperAnswers("postgres", run)).toEqual(HELPER_ANSWERS);
  });
});
