/**
 * The synchronous PostgreSQL client (src/store/pg/sync-client.ts) against a
 * real server: statements return their rows synchronously, errors keep their
 * SQLSTATE, a batch is one transaction, a claim skips rows another connection
 * holds, and NOTIFY wakes a listener.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgError, SyncPgClient } from "../../src/store/pg/sync-client.js";
import { claimAtOnce } from "../helpers/pg-claimers.js";
import { type PgCluster, startPgCluster } from "../helpers/pg-cluster.js";

const ROOT = join(import.meta.dirname, "..", "..");

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const CLAIM = `
  WITH next AS (
    SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs SET status = 'RUNNING', owner = $1 FROM next WHERE jobs.seq = next.seq AND jobs.status = 'QUEUED'
  RETURNING jobs.seq`;

describe("the synchronous PostgreSQL client", () => {
  let cluster: PgCluster;
  let url: string;
  let db: SyncPgClient;
  beforeAll(async () => {
    cluster = await startPgCluster();
    url = await cluster.createDatabase();
    db = new SyncPgClient(url);
    db.query("CREATE TABLE jobs (seq SERIAL PRIMARY KEY, status TEXT NOT NULL DEFAULT 'QUEUED', owner TEXT, at BIGINT)");
  }, 60_000);
  afterAll(async () => {
    db?.close();
    await cluster?.stop();
  });

  it("returns rows synchronously, with $n parameters and BIGINT as numbers", () => {
    const rows = db.query<{ seq: number; at: number }>("INSERT INTO jobs (at) VALUES ($1), ($2) RETURNING seq, at", [1_764_000_000_123, 5]);
    expect(rows).toEqual([
      { seq: 1, at: 1_764_000_000_123 },
      { seq: 2, at: 5 },
    ]);
    expect(db.query<{ n: number }>("SELECT COUNT(*) AS n FROM jobs")[0]?.n).toBe(2);
  });

  it("a guarded UPDATE ... RETURNING is a compare-and-set: the second one changes nothing", () => {
    const guarded = "UPDATE jobs SET status = 'DONE' WHERE seq = $1 AND status = 'QUEUED' RETURNING seq";
    expect(db.exec(guarded, [2]).rowCount).toBe(1);
    expect(db.exec(guarded, [2]).rowCount).toBe(0);
  });

  it("errors carry their SQLSTATE and leave the client usable", () => {
    let caught: unknown;
    try {
      db.query("INSERT INTO jobs (seq) VALUES (1)");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PgError);
    expect((caught as PgError).code).toBe("23505");
    expect(db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("a statement with parameters is prepared once per connection; one that failed to prepare is prepared again", () => {
    const sql = "SELECT seq FROM jobs WHERE seq = $1";
    expect(db.query(sql, [1])).toEqual([{ seq: 1 }]);
    expect(db.query(sql, [2])).toEqual([{ seq: 2 }]);
    const mine = () => db.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements").map((r) => r.statement);
    expect(mine().filter((s) => s === sql)).toHaveLength(1);
    // Parsing fails while the table is missing; once it exists the same text runs (not "prepared statement does not exist").
    const later = "SELECT n FROM later_table WHERE n = $1";
    expect(() => db.query(later, [1])).toThrow(/later_table/);
    db.query("CREATE TABLE later_table (n INT)");
    db.query("INSERT INTO later_table VALUES (1)");
    expect(db.query(later, [1])).toEqual([{ n: 1 }]);
    expect(db.rows(later, [1]).rows).toEqual([[1]]);
    expect(mine()).toContain(later);
  });

  it("a batch is one transaction: all or nothing", () => {
    expect(() =>
      db.batch([
        { sql: "INSERT INTO jobs (owner) VALUES ('batch')" },
        { sql: "INSERT INTO jobs (seq) VALUES (1)" },
      ]),
    ).toThrow(/duplicate key/);
    expect(db.query("SELECT seq FROM jobs WHERE owner = 'batch'")).toEqual([]);
    const [a, b] = db.batch([{ sql: "INSERT INTO jobs (owner) VALUES ('batch') RETURNING seq" }, { sql: "SELECT COUNT(*)::int AS n FROM jobs WHERE owner = 'batch'" }]);
    expect(a?.rows).toHaveLength(1);
    expect(b?.rows).toEqual([{ n: 1 }]);
  });

  it("a claim skips the rows another connection holds (FOR UPDATE SKIP LOCKED)", async () => {
    db.query("DELETE FROM jobs");
    const [first, second] = db.query<{ seq: number }>("INSERT INTO jobs (status) VALUES ('QUEUED'), ('QUEUED') RETURNING seq").map((r) => r.seq);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT seq FROM jobs WHERE seq = $1 FOR UPDATE", [first]);
      expect(db.query(CLAIM, ["sync"])).toEqual([{ seq: second }]);
      expect(db.query(CLAIM, ["sync"])).toEqual([]); // the other one is held, not free
      await holder.query("ROLLBACK");
      expect(db.query(CLAIM, ["sync"])).toEqual([{ seq: first }]);
    } finally {
      await holder.end();
    }
  });

  it("three processes claiming at once take every job exactly once", async () => {
    db.query("DELETE FROM jobs");
    db.query("INSERT INTO jobs (status) SELECT 'QUEUED' FROM generate_series(1, 600)");
    const results = await claimAtOnce(url, 3);
    expect(results.reduce((n, r) => n + r.claimed, 0)).toBe(600);
    expect(results.filter((r) => r.claimed > 0).length, "every process got some").toBe(3);
    const byOwner = db.query<{ owner: string; n: number }>("SELECT owner, COUNT(*) AS n FROM jobs GROUP BY owner ORDER BY owner");
    expect(byOwner.map((r) => r.n)).toEqual(results.map((r) => r.claimed));
    expect(db.query("SELECT seq FROM jobs WHERE status <> 'RUNNING' OR owner IS NULL")).toEqual([]);
  }, 60_000);

  it("NOTIFY wakes a listener (on its own connection, as an event)", async () => {
    const got: string[] = [];
    const stop = db.listen("aipm_wake", (p) => got.push(p));
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("SELECT pg_notify('aipm_wake', 'from another connection')");
      await until(() => got.length === 1);
      db.query("SELECT pg_notify('aipm_wake', 'from the client itself')");
      await until(() => got.length === 2);
      expect(got).toEqual(["from another connection", "from the client itself"]);
      stop();
      await other.query("SELECT pg_notify('aipm_wake', 'after unlisten')");
      db.query("SELECT 1"); // a round trip after the NOTIFY: a stray one would have arrived by now
      await new Promise((r) => setImmediate(r));
      expect(got).toHaveLength(2);
    } finally {
      await other.end();
    }
  });

  it("the built client (dist/, plain node) finds its worker and answers", async () => {
    const client = join(ROOT, "dist", "src", "store", "pg", "sync-client.js");
    const script = `
      import { SyncPgClient } from ${JSON.stringify(client)};
      const db = new SyncPgClient(${JSON.stringify(url)});
      process.stdout.write(JSON.stringify(db.query("SELECT COUNT(*) AS n FROM jobs")));
      db.close();
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([{ n: db.query<{ n: number }>("SELECT COUNT(*) AS n FROM jobs")[0]?.n }]);
  });

  it("a server that cannot be reached: the call fails at once with the reason, not after the timeout", () => {
    const t = Date.now();
    const nowhere = new SyncPgClient("postgres://postgres@127.0.0.1:1/none", { timeoutMs: 20_000 });
    expect(() => nowhere.query("SELECT 1")).toThrow(/ECONNREFUSED/);
    expect(Date.now() - t).toBeLessThan(10_000);
    nowhere.close();
  });

  it("a call that takes longer than its timeout throws and closes the client", () => {
    const slow = new SyncPgClient(url, { timeoutMs: 2_000 });
    expect(slow.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect(() => slow.query("SELECT pg_sleep(8)")).toThrow(/did not answer within 2000 ms/);
    expect(slow.isOpen).toBe(false);
    expect(() => slow.query("SELECT 1")).toThrow(/closed/);
  });
});
