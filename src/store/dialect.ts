/**
 * The few pieces of SQL that SQLite and PostgreSQL cannot share. Every other
 * statement of the store is written once, in the form both engines accept
 * (docs/hosts.md, "Porting the statements"); a statement that needs one of
 * these is a template calling it with the store's kind, and
 * tests/pg/statements-prepare.test.ts prepares it in both forms.
 *
 * JSON stays TEXT in both schemas: PostgreSQL reads it through a `::jsonb`
 * cast, SQLite through its json functions.
 */
import type { Backend } from "./sql-conn.js";

/** The store's engine (`store.kind`). */
export type DbKind = Backend;

const IDENT = /^[a-z_][a-z0-9_.]*$/;

function checked(what: string, s: string): string {
  if (!IDENT.test(s)) throw new Error(`internal: dialect ${what} must be a plain name: ${s}`);
  return s;
}

/** The number at key `key` of the JSON object in column `column` (NULL when absent). */
export function jsonNumber(kind: DbKind, column: string, key: string): string {
  const c = checked("column", column);
  const k = checked("key", key);
  return kind === "postgres" ? `CAST(${c}::jsonb ->> '${k}' AS DOUBLE PRECISION)` : `json_extract(${c}, '$.${k}')`;
}

/**
 * A JSON array (as text) of `value` over the group's rows where `filter`
 * holds: `[]` when none does. A text value goes in as a JSON string.
 */
export function jsonArrayAgg(kind: DbKind, value: string, filter: string): string {
  const v = checked("value", value);
  return kind === "postgres"
    ? `COALESCE(CAST(json_agg(${v}) FILTER (WHERE ${filter}) AS TEXT), '[]')`
    : `json_group_array(${v}) FILTER (WHERE ${filter})`;
}
