/**
 * Opening the store: resolve the database path, create its folder, set the
 * pragmas (WAL, busy timeout, NORMAL sync) and apply pending migrations.
 *
 * Migrations run under a cross-process lock (proper-lockfile): drizzle's
 * migrator reads the last applied migration outside its transaction, so two
 * processes opening a fresh database at once would both try to create it.
 * The lock is taken only when a migration is pending; the common path is one
 * SELECT.
 */
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import lockfile from "proper-lockfile";
import * as schema from "./schema.js";
import { packageRoot } from "../util/package-root.js";
import { systemClock, type Clock } from "../util/time.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  /** The drizzle database. */
  readonly db: Db;
  /** The raw better-sqlite3 connection (prepared statements on hot paths). */
  readonly sqlite: Database.Database;
  /** Absolute path of the database file. */
  readonly path: string;
  /** The folder that holds the database; logs live under `<dir>/logs`. */
  readonly dir: string;
  readonly now: Clock;
  close(): void;
}

export interface OpenOptions {
  /** `--db` flag. */
  db?: string | undefined;
  /** Environment (for AIPM_DB); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  now?: Clock;
}

export function resolveDbPath(opts: OpenOptions = {}): string {
  const env = opts.env ?? process.env;
  const chosen = opts.db || env.AIPM_DB || join(".aipm", "aipm.db");
  return resolve(chosen);
}

export async function openStore(opts: OpenOptions = {}): Promise<Store> {
  const path = resolveDbPath(opts);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const sqlite = new Database(path);
  try {
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 10000");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    const db = drizzle(sqlite, { schema });
    await migrateIfNeeded(db, sqlite, path);
    return {
      db,
      sqlite,
      path,
      dir,
      now: opts.now ?? systemClock,
      close: () => sqlite.close(),
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

function migrationsFolder(): string {
  return join(packageRoot(), "migrations");
}

function isUpToDate(sqlite: Database.Database): boolean {
  const journal = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  const latest = journal.reduce((m, x) => Math.max(m, x.folderMillis), 0);
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (!table) return journal.length === 0;
  const row = sqlite.prepare("SELECT MAX(created_at) AS last FROM __drizzle_migrations").get() as
    | { last: number | null }
    | undefined;
  return Number(row?.last ?? 0) >= latest;
}

async function migrateIfNeeded(db: Db, sqlite: Database.Database, dbPath: string): Promise<void> {
  if (isUpToDate(sqlite)) return;
  const guard = `${dbPath}.migrate`;
  if (!existsSync(guard)) writeFileSync(guard, "");
  const release = await lockfile.lock(guard, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 100, minTimeout: 20, maxTimeout: 200 },
    onCompromised: () => {
      /* the migration is one transaction: a compromised lock cannot corrupt it */
    },
  });
  try {
    if (!isUpToDate(sqlite)) migrate(db, { migrationsFolder: migrationsFolder() });
  } finally {
    await release();
  }
}
