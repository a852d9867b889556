/**
 * The SQL text of the source: string and template literals that read as SQL
 * (approximate, and on purpose simple). Used by the census
 * (./sqlite-syntax-census.ts) and by the prepare test
 * (./statements-prepare.test.ts), so both see the same statements.
 *
 * A template's `${…}` expressions are returned apart (`exprs`), in order: a
 * caller that needs the statement as it runs substitutes them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export const SQL = /^\s*(WITH\b[\s\S]*\b(SELECT|INSERT|UPDATE|DELETE)\b|SELECT\b[\s\S]*\bFROM\b|INSERT\b|UPDATE\s+[a-z_"]+\s+SET\b|DELETE\s+FROM\b|REPLACE\s+INTO\b|PRAGMA\b)/i;

/** `.ts` files under `dir` (relative to the repository), src/store/pg/ left out (it speaks PostgreSQL already). */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.ts$/.test(e.name) && !p.startsWith("src/store/pg/")) out.push(p);
  }
  return out;
}

/** A file's text with its comment lines blanked (line numbers kept). */
export function withoutComments(file: string): string {
  return readFileSync(join(ROOT, file), "utf8").replace(/^[ \t]*(\/\/|\*|\/\*\*).*$/gm, "");
}

export interface SqlLiteral {
  file: string;
  line: number;
  /** The literal's body as written (a template's `${…}` kept as text). */
  raw: string;
  /** Whitespace collapsed. */
  sql: string;
  /** A template's `${…}` expressions, in order ([] for a fixed statement). */
  exprs: string[];
}

/** The expressions of a template body's `${…}`, braces matched. */
export function templateExprs(body: string): string[] {
  const out: string[] = [];
  for (let i = body.indexOf("${"); i !== -1; i = body.indexOf("${", i)) {
    let depth = 1;
    let j = i + 2;
    while (j < body.length && depth > 0) {
      if (body[j] === "{") depth++;
      else if (body[j] === "}") depth--;
      j++;
    }
    out.push(body.slice(i + 2, j - 1));
    i = j;
  }
  return out;
}

/** The SQL literals of one file. */
export function sqlLiterals(file: string): SqlLiteral[] {
  const text = withoutComments(file);
  const out: SqlLiteral[] = [];
  const re = /`((?:[^`\\]|\\.)*)`|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const raw = m[1] ?? m[2] ?? m[3] ?? "";
    if (!SQL.test(raw)) continue;
    out.push({
      file,
      line: text.slice(0, m.index).split("\n").length,
      raw,
      sql: raw.replace(/\s+/g, " ").trim(),
      exprs: m[1] !== undefined ? templateExprs(raw) : [],
    });
  }
  return out;
}

/** Every statement of src/store/ (src/store/pg/ apart). */
export function storeStatements(): SqlLiteral[] {
  return sourceFiles("src/store").flatMap(sqlLiterals);
}
