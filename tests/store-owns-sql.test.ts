/**
 * The store owns every query: outside src/store/ no file writes SQL or
 * touches the driver (better-sqlite3, drizzle, `store.sqlite`, `store.db`,
 * prepared statements). A query belongs in the store module of its table
 * (docs/architecture.md, "The store").
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

const SIGNS: Array<[string, RegExp]> = [
  ["the driver", /from\s+["'](better-sqlite3|drizzle-orm)[^"']*["']/],
  ["the raw connection", /\.sqlite\b/],
  ["the ORM", /\bstore\.db\b/],
  ["a prepared statement", /\bstmt\(|\.prepare\(|\.pragma\(/],
  ["a SELECT", /\bSELECT\s[\s\S]{0,400}?\bFROM\s+[a-z_]+/],
  ["an INSERT", /\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\b/],
  ["an UPDATE", /\bUPDATE\s+[a-z_]+\s+SET\b/],
  ["a DELETE", /\bDELETE\s+FROM\b/],
  ["a PRAGMA", /\bPRAGMA\s+[a-z_]+/],
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(path);
  }
  return out;
}

describe("the store owns every query", () => {
  const files = [...sources("src"), ...sources("worker")].filter((f) => !f.startsWith("src/store/"));

  it("no file outside src/store/ holds SQL or touches the driver", () => {
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), "utf8");
      for (const [what, re] of SIGNS) if (re.test(text)) found.push(`${f}: ${what} (${re.exec(text)![0].replace(/\s+/g, " ").slice(0, 60)})`);
    }
    expect(found, "move these queries into the store module of their table (src/store/)").toEqual([]);
  });

  it("the check sees SQL and the driver where they are", () => {
    const caught = (text: string) => SIGNS.some(([, re]) => re.test(text));
    expect(caught('stmt(store, "SELECT status FROM tasks WHERE id = ?")')).toBe(true);
    expect(caught("store.sqlite.transaction(() => {})")).toBe(true);
    expect(caught('import Database from "better-sqlite3";')).toBe(true);
    expect(caught("`UPDATE orders SET active = 1`")).toBe(true);
    expect(caught("A command task outside git costs one SELECT here: this is on every task's path.")).toBe(false);
  });
});
