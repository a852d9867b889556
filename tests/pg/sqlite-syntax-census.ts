/**
 * A census of the SQL the store runs: how many statements there are, and how
 * many use SQLite-only syntax that a PostgreSQL port must change. The figures
 * in docs/hosts.md come from here:
 *
 *   npx tsx tests/pg/sqlite-syntax-census.ts          # the summary
 *   npx tsx tests/pg/sqlite-syntax-census.ts --list   # every flagged statement
 *
 * Statements are string and template literals that read as SQL (approximate:
 * a `${…}` inside a template is kept as text). drizzle query-builder calls
 * are counted apart: their SQL is generated per dialect, but their
 * synchronous `.run()/.get()/.all()` is better-sqlite3's.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT, sourceFiles as files, sqlLiterals, withoutComments } from "./store-sql.js";

const CHECKS: Array<[string, RegExp, string]> = [
  ["`?` parameters", /\?(?![^'"]*['"]\s*[,)])|\?\s*[,)]/, "pg numbers them: $1, $2 … (a helper rewrites ? to $n outside quotes)"],
  ["named parameters (@x, :x, $x)", /[@:$][a-z_]+\b(?![(])/i, "pg has positional only: bind by name in the helper"],
  ["a parameter only tested for NULL (`@p IS NULL OR …`)", /([@:$][a-z_]+|\?)\s+IS\s+(NOT\s+)?NULL/i, "pg cannot type it: CAST(@p AS TEXT) IS NULL (valid in both)"],
  ["INSERT OR IGNORE", /INSERT\s+OR\s+IGNORE/i, "INSERT … ON CONFLICT DO NOTHING (valid in SQLite too)"],
  ["INSERT OR REPLACE / REPLACE INTO", /INSERT\s+OR\s+REPLACE|^\s*REPLACE\s+INTO/i, "INSERT … ON CONFLICT (key) DO UPDATE SET … = excluded.… (valid in both)"],
  ["ON CONFLICT", /ON\s+CONFLICT/i, "portable (SQLite ≥ 3.24 and pg share the syntax); pg needs the conflict target"],
  ["boolean as 0/1", /\b(paused|active|review|preempt)\s*(=|<>|!=)\s*[01]\b|\bSET\s+[^;]*\b(paused|active|review|preempt)\s*=\s*[01]\b/i, "pg BOOLEAN: compare with TRUE/FALSE or bind a JS boolean (valid in SQLite too)"],
  ["json functions", /\bjson_(extract|each|group_array|group_object|object|array|valid|set|insert|quote)\b|->>/i, "pg: ::jsonb ->> / jsonb_array_elements_text / jsonb_agg; one dialect function each"],
  ["date functions (strftime, datetime, julianday, unixepoch)", /\b(strftime|datetime|julianday|unixepoch)\s*\(/i, "times are epoch ms computed in JS: pass them as parameters"],
  ["IFNULL", /\bIFNULL\s*\(/i, "COALESCE (valid in both)"],
  ["GROUP_CONCAT", /\bGROUP_CONCAT\s*\(/i, "string_agg(x, ',')"],
  ["scalar MAX(a, b) / MIN(a, b)", /\b(MAX|MIN)\s*\([^()]*,[^()]*\)/i, "GREATEST / LEAST"],
  ["LIKE (case-insensitive in SQLite)", /\bLIKE\b/i, "pg LIKE is case-sensitive: ILIKE, or lower() on both sides"],
  ["GLOB", /\bGLOB\b/i, "pg: LIKE / ~ regex"],
  ["IS / IS NOT between values", /\bIS\s+(NOT\s+)?(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)[a-z_?$@]/i, "IS [NOT] DISTINCT FROM"],
  ["sqlite_master / PRAGMA / rowid", /\bsqlite_master\b|\bPRAGMA\b|\browid\b/i, "pg catalog (to_regclass) or nothing"],
  ["typeof() / instr() / printf()", /\b(typeof|instr|printf)\s*\(/i, "pg_typeof / strpos / format"],
  ["camelCase alias (pg folds it to lower case)", /\bAS\s+[a-z]+[A-Z]\w*/, 'quote it: AS "procStart" (valid in both)'],
  ["SUM/COUNT over a comparison", /\b(SUM|TOTAL)\s*\((?!\s*CASE\b)[^()]*(=|<>|\bIN\s*\(|\bIS\b)/i, "pg sums no booleans: SUM((…)::int) or SUM(CASE WHEN … THEN 1 ELSE 0 END) (valid in both)"],
  ["a boolean expression as a result (0/1 in SQLite, true/false in pg)", /\bSELECT\b[^;]*?\b(IS NOT NULL|IS NULL)\s+AS\b|SELECT\s+[a-z_.]+\s+IS\s+NOT\s+NULL\s+FROM/i, "the PostgreSQL connection reads booleans as 1/0, as SQLite gives them"],
  ["a dialect helper (src/store/dialect.ts)", /\$\{\w+\((kind|store\.kind),/, "one text per engine, both prepared by tests/pg/statements-prepare.test.ts"],
  ["RETURNING", /\bRETURNING\b/i, "portable (SQLite ≥ 3.35); pg also gives rowCount"],
];

const all = [...files("src"), ...files("worker")];
const statements: Array<{ file: string; line: number; sql: string; flags: string[] }> = [];
let builderCalls = 0;
const builderFiles = new Set<string>();
for (const f of all) {
  const text = withoutComments(f);
  for (const l of sqlLiterals(f)) statements.push({ file: f, line: l.line, sql: l.sql, flags: CHECKS.filter(([, re]) => re.test(l.sql)).map(([name]) => name) });
  const b = text.match(/\b(db|tx|store\.db)\s*\.\s*(select|insert|update|delete)\s*\(/g);
  if (b) {
    builderCalls += b.length;
    builderFiles.add(f);
  }
}

const inStore = statements.filter((s) => s.file.startsWith("src/store/"));
const syncTx = all.reduce((n, f) => n + (readFileSync(join(ROOT, f), "utf8").match(/\.immediate\(\)|\.transaction\(/g)?.length ?? 0), 0);
console.log(`SQL statements (literals): ${statements.length} (${inStore.length} in src/store/, ${statements.length - inStore.length} elsewhere, in ${new Set(statements.filter((s) => !s.file.startsWith("src/store/")).map((s) => s.file)).size} files not yet moved)`);
console.log(`with at least one SQLite-only or dialect-sensitive construct: ${statements.filter((s) => s.flags.some((x) => x !== "RETURNING" && x !== "ON CONFLICT")).length}`);
const PORTABLE = new Set(["RETURNING", "ON CONFLICT", "`?` parameters"]);
console.log(`... beyond \`?\` parameters (which one helper rewrites): ${statements.filter((s) => s.flags.some((x) => !PORTABLE.has(x))).length}`);
// Handled without touching the statement: placeholders (toPg), 1/0 booleans (the connection), dialect helpers (one text each).
const HANDLED = new Set([...PORTABLE, "named parameters (@x, :x, $x)", "a boolean expression as a result (0/1 in SQLite, true/false in pg)", "a dialect helper (src/store/dialect.ts)"]);
const open = statements.filter((s) => s.flags.some((x) => !HANDLED.has(x)));
console.log(`... left to port (beyond placeholders, 1/0 booleans and dialect helpers): ${open.length}${open.length ? ` (${open.map((s) => `${s.file}:${s.line}`).join(", ")})` : ""}`);
console.log(`drizzle query-builder calls: ${builderCalls} in ${builderFiles.size} files; synchronous transactions (.transaction / .immediate): ${syncTx}`);
console.log("\n| construct | statements | how to port |\n|---|---:|---|");
for (const [name, , how] of CHECKS) {
  const n = statements.filter((s) => s.flags.includes(name)).length;
  if (n > 0) console.log(`| ${name} | ${n} | ${how} |`);
}
// Option B (an async store API) would change every caller: the store's exported functions and where they are called.
const exported = new Set<string>();
for (const f of all.filter((x) => x.startsWith("src/store/") && !x.startsWith("src/store/pg/"))) {
  for (const m of readFileSync(join(ROOT, f), "utf8").matchAll(/^export (?:async )?function (\w+)/gm)) exported.add(m[1]!);
}
let callSites = 0;
const callerFiles = new Set<string>();
for (const f of [...all, ...files("tests"), ...files("bench")].filter((x) => !x.startsWith("src/store/"))) {
  const text = readFileSync(join(ROOT, f), "utf8");
  for (const name of exported) {
    const n = [...text.matchAll(new RegExp(`\\b${name}\\(`, "g"))].length;
    if (n > 0) {
      callSites += n;
      callerFiles.add(f);
    }
  }
}
const srcCallers = [...callerFiles].filter((f) => !f.startsWith("tests/"));
console.log(`\nstore API: ${exported.size} exported functions, called ${callSites} times from ${callerFiles.size} files outside src/store/ (${srcCallers.length} of them in src/, worker/, bench/)`);

if (process.argv.includes("--list")) {
  for (const s of statements.filter((x) => x.flags.length)) console.log(`\n${relative(ROOT, join(ROOT, s.file))}:${s.line} [${s.flags.join("; ")}]\n  ${s.sql.slice(0, 300)}`);
}
