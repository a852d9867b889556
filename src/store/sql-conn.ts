/**
 * The connection every store module talks to: the part of better-sqlite3's
 * API the store uses, so one statement text and one calling code serve both
 * backends. On SQLite it *is* the better-sqlite3 connection; on PostgreSQL
 * it is ./pg/pg-conn.ts, the same shapes over the synchronous client.
 *
 * What differs, and is allowed for:
 * - `run()` returns `changes`; `lastInsertRowid` exists only on SQLite (use
 *   `RETURNING`);
 * - `transaction(fn)` on PostgreSQL serialises with every other writing
 *   transaction of the database (an advisory lock), as `BEGIN IMMEDIATE`
 *   does on SQLite: the transitions check in JavaScript between statements
 *   and rely on nobody writing meanwhile;
 * - booleans read as 1/0 on both.
 */
export type Backend = "sqlite" | "postgres";

export interface SqlRunResult {
  changes: number;
  /** SQLite only: PostgreSQL statements say what they need with `RETURNING`. */
  lastInsertRowid?: number | bigint;
}

export interface SqlStatement {
  run(...params: unknown[]): SqlRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Rows as their first column's value. */
  pluck(toggle?: boolean): this;
  /** Rows as arrays of values, in the columns' order. */
  raw(toggle?: boolean): this;
}

type Args = any[];

export interface SqlTransaction<F extends (...args: never[]) => unknown> {
  (...args: Args): ReturnType<F>;
  deferred(...args: Args): ReturnType<F>;
  immediate(...args: Args): ReturnType<F>;
  exclusive(...args: Args): ReturnType<F>;
}

export interface SqlConn {
  prepare(sql: string): SqlStatement;
  transaction<F extends (...args: any[]) => unknown>(fn: F): SqlTransaction<F>;
  readonly open: boolean;
  close(): unknown;
}
