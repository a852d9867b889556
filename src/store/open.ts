/**
 * Opening the store: resolve the database path, create its folder, set the
 * pragmas (WAL, busy timeout, NORMAL sync) and apply pending migrations.
 *
 * Migrations run under a cross-process lock (proper-lockfile): drizzle's
 * migrator reads the last applied migration outside its transaction, so two
 * processes opening a fresh database at once would both try to create it.
 * The lock is taken only when a migration is pending; the common path is one
 * SELECT.
 *
 * drizzle-orm (~45 ms to load) is loaded only when the store is opened with
 * `orm: true` (the default for library callers) or a migration is pending:
 * commands that only read or run tasks use prepared statements and start
 * faster without it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

import Database from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type * as schema from "./schema.js";
import { packageRoot } from "../util/package-root.js";
import { systemClock, type Clock } from "../util/time.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  /** The drizzle database (when opened with `orm`, the default). */
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
  /** Load drizzle-orm for `store.db` (default true). The CLI opens without it unless a command writes plans. */
  orm?: boolean;
}

async function loadDrizzle(sqlite: Database.Database): Promise<Db> {
  const [{ drizzle }, schemaModule] = await Promise.all([import("drizzle-orm/better-sqlite3"), import("./schema.js")]);
  return drizzle(sqlite, { schema: schemaModule });
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
    let db: Db | null = null;
    if (!isUpToDate(sqlite)) {
      db = await loadDrizzle(sqlite);
      await migrate(db, sqlite, path);
    }
    if (db === null && opts.orm !== false) db = await loadDrizzle(sqlite);
    return {
      get db(): Db {
        if (db === null) throw new Error("internal: this store was opened without the ORM (openStore({ orm: true }))");
        return db;
      },
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

function latestMigration(): { count: number; latest: number } {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as {
    entries: Array<{ when: number }>;
  };
  return { count: journal.entries.length, latest: journal.entries.reduce((m, e) => Math.max(m, e.when), 0) };
}

function isUpToDate(sqlite: Database.Database): boolean {
  const { count, latest } = latestMigration();
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (!table) return count === 0;
  const row = sqlite.prepare("SELECT MAX(created_at) AS last FROM __drizzle_migrations").get() as
    | { last: number | null }
    | undefined;
  return Number(row?.last ?? 0) >= latest;
}

async function migrate(db: Db, sqlite: Database.Database, dbPath: string): Promise<void> {
  const [{ default: lockfile }, { migrate: drizzleMigrate }] = await Promise.all([
    import("proper-lockfile"),
    import("drizzle-orm/better-sqlite3/migrator"),
  ]);
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
    if (!isUpToDate(sqlite)) drizzleMigrate(db, { migrationsFolder: migrationsFolder() });
  } finally {
    await release();
  }
}
