/**
 * The store's connection on PostgreSQL (../sql-conn.ts): better-sqlite3's
 * shapes — `prepare(sql).run/get/all`, `pluck()`, `raw()`,
 * `transaction(fn).immediate()` — over the synchronous client
 * (./sync-client.ts), so the store's modules run unchanged on both backends.
 *
 * - Placeholders (`?`, `@name`) are rewritten once per statement (./placeholders.ts).
 * - Booleans come back as 1/0, as SQLite stores them.
 * - A transaction is `BEGIN` plus a transaction-level advisory lock taken by
 *   every writing transaction of every aipm process on every host, in one
 *   round trip: transactions are serialised as SQLite's `BEGIN IMMEDIATE`
 *   serialises them. The transitions read, check in JavaScript and write;
 *   they are correct because nobody writes in between, and this keeps that
 *   true across hosts. The lock goes with the transaction (commit, rollback,
 *   or a dropped connection), so a dead host holds nothing.
 * - A nested transaction is a savepoint, as in better-sqlite3; its release
 *   rides on the next savepoint's round trip (or the COMMIT), see `unreleased`.
 * - Statements outside a transaction commit on their own (autocommit); a
 *   guarded `UPDATE … WHERE status = …` is atomic on its own in PostgreSQL.
 */
import type { SqlConn, SqlRunResult, SqlStatement, SqlTransaction } from "../sql-conn.js";
import { bindPg, type PgStatement, toPg } from "./placeholders.js";
import type { Param } from "./protocol.js";
import type { SyncPgClient } from "./sync-client.js";

/** The key every writing transaction locks ("aipt" in ASCII); migrations use another ("aipm"). */
export const WRITE_LOCK_KEY = 0x61697074;

function fromPg(v: unknown): unknown {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

class PgStatementFacade implements SqlStatement {
  private mode: "objects" | "pluck" | "raw" = "objects";
  private readonly compiled: PgStatement;

  constructor(
    private readonly conn: PgConn,
    sql: string,
  ) {
    this.compiled = toPg(sql);
  }

  pluck(toggle = true): this {
    this.mode = toggle ? "pluck" : "objects";
    return this;
  }

  raw(toggle = true): this {
    this.mode = toggle ? "raw" : "objects";
    return this;
  }

  run(...params: unknown[]): SqlRunResult {
    return { changes: this.query(params).rowCount };
  }

  get(...params: unknown[]): unknown {
    const r = this.query(params);
    return r.rows.length === 0 ? undefined : this.shape(r.fields, r.rows[0]!);
  }

  all(...params: unknown[]): unknown[] {
    const r = this.query(params);
    return r.rows.map((row) => this.shape(r.fields, row));
  }

  private query(params: unknown[]) {
    try {
      return this.conn.client.rows(this.compiled.text, bindPg(this.compiled, params) as Param[]);
    } catch (err) {
      this.conn.noteFailure(err);
      throw err;
    }
  }

  private shape(fields: string[], row: unknown[]): unknown {
    if (this.mode === "pluck") return fromPg(row[0]);
    if (this.mode === "raw") return row.map(fromPg);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) out[fields[i]!] = fromPg(row[i]);
    return out;
  }
}

export class PgConn implements SqlConn {
  private depth = 0;
  /**
   * A statement failed inside the open transaction: PostgreSQL has aborted it (every later
   * statement fails, and COMMIT would silently roll it back), where SQLite would go on. Kept
   * until the transaction or the savepoint it happened in is rolled back, so that a caller who
   * caught the error cannot commit as if nothing happened.
   */
  private aborted: unknown = null;
  private listening = false;

  constructor(readonly client: SyncPgClient) {}

  get open(): boolean {
    return this.client.isOpen;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(sql: string): SqlStatement {
    return new PgStatementFacade(this, sql);
  }

  /** A statement failed: inside a transaction, that transaction is now aborted (see `aborted`). */
  noteFailure(err: unknown): void {
    if (this.depth > 0 && this.aborted === null) this.aborted = err;
  }

  transaction<F extends (...args: any[]) => unknown>(fn: F): SqlTransaction<F> {
    const run = (...args: unknown[]) => this.inTx(() => fn(...args)) as ReturnType<F>;
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  }

  close(): void {
    this.client.close();
  }

  /**
   * How many times another connection has committed a change since this one first asked
   * (LISTEN on channel `aipm`, which the tables' triggers notify: migrations-pg/0003), plus one
   * per lost LISTEN connection: SQLite's `data_version`, for PostgreSQL. Exact when it returns,
   * as `data_version` is (one round trip: the worker reads its LISTEN connection up to now). The
   * LISTEN does not keep the process alive.
   */
  changeCount(): number {
    if (!this.listening) {
      this.client.listen("aipm", () => undefined, { keepAlive: false });
      this.listening = true;
    }
    return this.client.changes("aipm");
  }

  /**
   * A savepoint whose function returned, not yet released: its `RELEASE` goes out with the next
   * savepoint of the transaction, in the same round trip — a batch of ends (../write-batch.ts) is
   * one savepoint per transition, and this halves their round trips. A savepoint left unreleased
   * changes nothing meanwhile: the names are per depth, and a new one at its depth is only made
   * after the release. `COMMIT` releases it with everything; a rollback (to an enclosing savepoint,
   * or of the transaction) discards it, and must not send it — in a failed transaction PostgreSQL
   * refuses a `RELEASE`, which would stop the rollback after it.
   */
  private unreleased: string | null = null;

  private inTx<T>(fn: () => T): T {
    const outer = this.depth === 0;
    const savepoint = `aipm_sp${this.depth}`;
    try {
      if (outer) this.client.script(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
      else this.client.script(`${this.takeUnreleased()}SAVEPOINT ${savepoint}`);
    } catch (err) {
      // BEGIN went through and the lock did not (lock_timeout, a cancel): leave no transaction open.
      if (outer) this.rollbackQuietly("ROLLBACK");
      throw err;
    }
    this.depth++;
    let result: T;
    try {
      result = fn();
      // A statement failed and the caller caught it: the transaction cannot commit (PostgreSQL
      // aborted it); fail as the statement did instead of committing nothing silently.
      if (this.aborted !== null) throw this.aborted;
    } catch (err) {
      this.depth--;
      this.unreleased = null;
      this.rollbackQuietly(outer ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`);
      this.aborted = null;
      throw err;
    }
    this.depth--;
    if (outer) {
      this.unreleased = null;
      this.client.script("COMMIT");
    } else {
      this.takeUnreleased(); // one of its own nested savepoints: released with it
      this.unreleased = savepoint;
    }
    return result;
  }

  private rollbackQuietly(sql: string): void {
    try {
      this.client.script(sql);
    } catch {
      /* the connection is gone: the server rolled back */
    }
  }

  /** `RELEASE SAVEPOINT …; ` for the savepoint left unreleased, if any, to go before the next script. */
  private takeUnreleased(): string {
    const sp = this.unreleased;
    this.unreleased = null;
    return sp === null ? "" : `RELEASE SAVEPOINT ${sp}; `;
  }
}
