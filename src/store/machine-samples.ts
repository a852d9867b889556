/**
 * Machine samples (CPU, memory, disk, GPU, effective workers, and the limits
 * then in force), one every 5 s from whoever records them (a leading
 * supervisor, the dashboard: src/resources/machine-point.ts), the last 24
 * hours kept, so the charts survive a restart.
 *
 * They live in their own SQLite file next to the database
 * (`<db folder>/machine-samples.db`), not in the database: supervisors reload
 * their view of a project whenever another connection commits to the
 * database (SQLite's `data_version`, src/runtime/project-view.ts), and a
 * sample written there every 5 s woke every supervisor every 5 s for nothing.
 * A commit to another file does not move the database's `data_version`.
 *
 * (The `machine_samples` table of the database, where samples were kept
 * before, is only read: samples found there are shown until they age out.)
 * A database that is read-only or in memory keeps its samples in memory.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import type { Store } from "./open.js";
import { stmt } from "./statements.js";

export const SAMPLES_FILE = "machine-samples.db";

export interface MachineSampleRow {
  t: number;
  cpu: number;
  mem: number;
  workers: number;
  running: number;
  gpu: number | null;
  gpu_mem: number | null;
  disk_db: number | null;
  disk_root: number | null;
  max_cpu: number;
  max_memory: number;
  max_workers: number;
}

const COLUMNS = "t, cpu, mem, workers, running, gpu, gpu_mem, disk_db, disk_root, max_cpu, max_memory, max_workers";
/** The columns every statement here reads and writes (tests/pg/statements-prepare.test.ts prepares them). */
export const MACHINE_SAMPLE_COLUMNS = COLUMNS;

const CREATE = `CREATE TABLE IF NOT EXISTS machine_samples (
  t INTEGER PRIMARY KEY, cpu REAL NOT NULL, mem REAL NOT NULL, workers INTEGER NOT NULL, running INTEGER NOT NULL,
  gpu REAL, gpu_mem REAL, disk_db REAL, disk_root REAL, max_cpu REAL NOT NULL, max_memory REAL NOT NULL, max_workers INTEGER NOT NULL)`;

export interface MachineSamples {
  /** Where they are kept (a file path, or ":memory:"). */
  readonly path: string;
  /** Samples taken at or after `since` (epoch ms), oldest first. */
  since(since: number): MachineSampleRow[];
  /** Adds the row unless a sample younger than `withinMs` before it is kept (one statement: two recorders cannot both add); true when added. */
  addUnlessRecent(row: MachineSampleRow, withinMs: number): boolean;
  /** The time of the newest sample kept in the file (null: none). */
  newest(): number | null;
  /** Drops samples older than `before`. */
  prune(before: number): void;
  close(): void;
}

function open(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma("busy_timeout = 1000");
    if (path !== ":memory:") {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
    }
    db.exec(CREATE);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The samples store of `store`'s database (in memory when the database is read-only, missing or cannot hold the file). */
export function openMachineSamples(store: Store): MachineSamples {
  let path = store.readOnly || store.missing || !store.path ? ":memory:" : join(store.dir, SAMPLES_FILE);
  let db: Database.Database;
  try {
    db = open(path);
  } catch {
    path = ":memory:";
    db = open(path);
  }
  const since = db.prepare(`SELECT ${COLUMNS} FROM machine_samples WHERE t >= ? ORDER BY t`);
  const prune = db.prepare("DELETE FROM machine_samples WHERE t < ?");
  const newest = db.prepare("SELECT MAX(t) FROM machine_samples").pluck();
  const addUnlessRecent = db.prepare(
    `INSERT INTO machine_samples (${COLUMNS}) SELECT @t, @cpu, @mem, @workers, @running, @gpu, @gpu_mem, @disk_db, @disk_root, @max_cpu, @max_memory, @max_workers
      WHERE NOT EXISTS (SELECT 1 FROM machine_samples WHERE t + @within > @t)
      ON CONFLICT (t) DO UPDATE SET cpu = excluded.cpu, mem = excluded.mem, workers = excluded.workers, running = excluded.running,
        gpu = excluded.gpu, gpu_mem = excluded.gpu_mem, disk_db = excluded.disk_db, disk_root = excluded.disk_root,
        max_cpu = excluded.max_cpu, max_memory = excluded.max_memory, max_workers = excluded.max_workers`,
  );
  return {
    path,
    since: (t) => {
      const own = since.all(t) as MachineSampleRow[];
      let older: MachineSampleRow[] = [];
      try {
        // Samples kept in the database by an earlier version (reading does not move data_version).
        older = stmt(store, `SELECT ${COLUMNS} FROM machine_samples WHERE t >= ? ORDER BY t`).all(t) as MachineSampleRow[];
      } catch {
        // No such table (an older database opened read-only).
      }
      if (older.length === 0) return own;
      const byT = new Map<number, MachineSampleRow>();
      for (const r of [...older, ...own]) byT.set(r.t, r);
      return [...byT.values()].sort((a, b) => a.t - b.t);
    },
    addUnlessRecent: (row, within) => addUnlessRecent.run({ ...row, within: Math.round(within) }).changes > 0,
    newest: () => (newest.get() as number | null) ?? null,
    prune: (before) => void prune.run(before),
    close: () => db.close(),
  };
}

/**
 * The newest sample a recorder kept, when it is at most `maxAgeMs` old (null
 * otherwise, or when there is no file). Read-only: opens nothing for writing
 * and creates no file.
 */
export function recentMachineSample(store: Store, now: number, maxAgeMs: number): MachineSampleRow | null {
  if (store.missing || !store.path) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(join(store.dir, SAMPLES_FILE), { readonly: true, fileMustExist: true });
    const row = db.prepare(`SELECT ${COLUMNS} FROM machine_samples ORDER BY t DESC LIMIT 1`).get() as MachineSampleRow | undefined;
    return row && now - row.t <= maxAgeMs && row.t <= now + 1000 ? row : null;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
