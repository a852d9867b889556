/**
 * Measures, on this machine, what the store's statements cost on SQLite
 * (better-sqlite3) and on PostgreSQL through the synchronous client
 * (src/store/pg/sync-client.ts), plus node-postgres called directly (async)
 * to show what the worker hop costs. Figures go to docs/hosts.md.
 *
 *   npx tsx tests/pg/measure.ts            # PostgreSQL with fsync off (as the tests run it)
 *   npx tsx tests/pg/measure.ts --durable  # fsync and synchronous_commit on
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { SyncPgClient } from "../../src/store/pg/sync-client.js";
import { claimAtOnce } from "../helpers/pg-claimers.js";
import { startPgCluster } from "../helpers/pg-cluster.js";

const N = Number(process.env.N ?? 2000);
const durable = process.argv.includes("--durable");

interface Figure {
  what: string;
  medianUs: number;
  p95Us: number;
  perS: number;
}
const figures: Figure[] = [];
const claimRates: string[] = [];

function record(what: string, samples: number[]): void {
  samples.sort((a, b) => a - b);
  const total = samples.reduce((s, x) => s + x, 0);
  figures.push({
    what,
    medianUs: samples[Math.floor(samples.length / 2)]! * 1000,
    p95Us: Math.round(samples[Math.floor(samples.length * 0.95)]! * 1000),
    perS: Math.round((samples.length / total) * 1000),
  });
}

function timeSync(what: string, fn: (i: number) => void, n = N): void {
  for (let i = 0; i < Math.min(200, n); i++) fn(i); // warm up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn(i);
    samples.push(performance.now() - t);
  }
  record(what, samples);
}

async function timeAsync(what: string, fn: (i: number) => Promise<void>, n = N): Promise<void> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  record(what, samples);
}

const JOBS_SQLITE = "CREATE TABLE jobs (seq INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'QUEUED', owner TEXT, at INTEGER)";
const JOBS_PG = "CREATE TABLE jobs (seq SERIAL PRIMARY KEY, status TEXT NOT NULL DEFAULT 'QUEUED', owner TEXT, at BIGINT)";
// A partial index over the queued rows: the claim's scan starts at the first queued row.
const JOBS_INDEX = "CREATE INDEX jobs_queue ON jobs (seq) WHERE status = 'QUEUED'";
const CLAIM_ONE = `WITH next AS (SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
  UPDATE jobs SET status = 'RUNNING', owner = $1 FROM next WHERE jobs.seq = next.seq RETURNING jobs.seq`;

const loadBefore = (await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ");

async function main(): Promise<void> {
  // SQLite, as the store opens it (WAL, synchronous=NORMAL).
  const dir = mkdtempSync(join(tmpdir(), "aipm-measure-"));
  const lite = new Database(join(dir, "m.db"));
  lite.pragma("journal_mode = WAL");
  lite.pragma("synchronous = NORMAL");
  lite.exec(JOBS_SQLITE);
  lite.exec(JOBS_INDEX);
  const ins = lite.prepare("INSERT INTO jobs (status) VALUES ('QUEUED')");
  lite.transaction(() => {
    for (let i = 0; i < N * 3; i++) ins.run();
  })();
  const one = lite.prepare("SELECT 1 AS one");
  timeSync("sqlite: SELECT 1", () => one.get());
  const guard = lite.prepare("UPDATE jobs SET status = 'RUNNING', at = ? WHERE seq = ? AND status = 'QUEUED' RETURNING seq");
  const txGuard = lite.transaction((i: number) => guard.get(Date.now(), i + 1));
  timeSync("sqlite: BEGIN IMMEDIATE; guarded UPDATE ... RETURNING; COMMIT", (i) => txGuard.immediate(i));
  const pick = lite.prepare("SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1");
  const take = lite.prepare("UPDATE jobs SET status = 'RUNNING', owner = ? WHERE seq = ? AND status = 'QUEUED'");
  const claim = lite.transaction(() => {
    const r = pick.get() as { seq: number } | undefined;
    if (r) take.run("me", r.seq);
  });
  timeSync("sqlite: claim (BEGIN IMMEDIATE; SELECT next; UPDATE; COMMIT)", () => claim.immediate());
  lite.close();
  rmSync(dir, { recursive: true, force: true });

  const cluster = await startPgCluster({ durable });
  try {
    const url = await cluster.createDatabase("measure");
    const db = new SyncPgClient(url);
    db.query(JOBS_PG);
    db.query(JOBS_INDEX);
    db.query(`INSERT INTO jobs (status) SELECT 'QUEUED' FROM generate_series(1, ${N * 8})`);
    db.query("ANALYZE jobs");
    timeSync("pg sync client: SELECT 1", () => db.query("SELECT 1 AS one"));
    let base = 0;
    const guardSql = "UPDATE jobs SET status = 'RUNNING', at = $1 WHERE seq = $2 AND status = 'QUEUED' RETURNING seq";
    timeSync("pg sync client: guarded UPDATE ... RETURNING in a transaction, 1 round trip (batch)", (i) => {
      db.batch([{ sql: guardSql, params: [Date.now(), base + i + 1] }]);
    });
    base += N + 200;
    timeSync("pg sync client: BEGIN; guarded UPDATE ... RETURNING; COMMIT, 3 round trips", (i) => {
      db.query("BEGIN");
      db.query(guardSql, [Date.now(), base + i + 1]);
      db.query("COMMIT");
    });
    // A queue table's claims slow down as claimed rows leave dead index entries behind until
    // (auto)vacuum: each claim series starts from a vacuumed table, as autovacuum keeps it.
    db.query("VACUUM ANALYZE jobs");
    timeSync("pg sync client: claim, one statement (CTE ... FOR UPDATE SKIP LOCKED; UPDATE ... RETURNING)", () => {
      db.query(CLAIM_ONE, ["me"]);
    });
    db.query("VACUUM ANALYZE jobs");
    timeSync("pg sync client: claim, BEGIN; SELECT ... FOR UPDATE SKIP LOCKED; UPDATE; COMMIT (4 round trips)", () => {
      db.query("BEGIN");
      const r = db.query<{ seq: number }>("SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED");
      if (r[0]) db.query("UPDATE jobs SET status = 'RUNNING', owner = $1 WHERE seq = $2", ["me", r[0].seq]);
      db.query("COMMIT");
    });

    // node-postgres directly, awaited: the cost of the hop through the worker is the difference.
    const direct = new pg.Client({ connectionString: url });
    await direct.connect();
    await timeAsync("pg async (direct, no worker): SELECT 1", async () => {
      await direct.query("SELECT 1 AS one");
    });
    await direct.query("VACUUM ANALYZE jobs");
    await timeAsync("pg async (direct, no worker): claim, one statement", async () => {
      await direct.query(CLAIM_ONE, ["me"]);
    });

    // LISTEN/NOTIFY: from pg_notify() on another connection to the sync client's callback.
    let resolveWake: (() => void) | null = null;
    db.listen("aipm_wake", () => resolveWake?.());
    await timeAsync(
      "LISTEN/NOTIFY wake-up (pg_notify on another connection -> callback on the caller's thread)",
      async () => {
        const woke = new Promise<void>((r) => {
          resolveWake = r;
        });
        await direct.query("SELECT pg_notify('aipm_wake', 'x')");
        await woke;
      },
      500,
    );
    // Claims per second with 1, 2 and 4 processes claiming from one queue at once.
    for (const n of [1, 2, 4]) {
      await direct.query("TRUNCATE jobs");
      await direct.query(`INSERT INTO jobs (status) SELECT 'QUEUED' FROM generate_series(1, ${N})`);
      await direct.query("VACUUM ANALYZE jobs");
      const results = await claimAtOnce(url, n);
      const claimed = results.reduce((s, r) => s + r.claimed, 0);
      if (claimed !== N) throw new Error(`claimed ${claimed} of ${N}`);
      const ms = Math.max(...results.map((r) => r.ms));
      claimRates.push(`| ${n} | ${Math.round((claimed / ms) * 1000)} |`);
    }
    await direct.end();
    db.close();
  } finally {
    await cluster.stop();
  }
  console.log(`# ${N} iterations each (load average before: ${loadBefore}); PostgreSQL ${durable ? "durable (fsync, synchronous_commit on)" : "with fsync and synchronous_commit off"}`);
  console.log("| what | median µs | p95 µs | per s |\n|---|---:|---:|---:|");
  for (const f of figures) console.log(`| ${f.what} | ${f.medianUs < 10 ? f.medianUs.toFixed(1) : Math.round(f.medianUs)} | ${f.p95Us} | ${f.perS} |`);
  console.log(`\nClaims of ${N} jobs by processes claiming at once (one statement per claim, sync client):\n| processes | claims per s |\n|---:|---:|`);
  for (const r of claimRates) console.log(r);
}

await main();
