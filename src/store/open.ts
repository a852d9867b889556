/**
 * Opening the store: find the database (./db-location.ts), create its folder,
 * set the pragmas (WAL, busy timeout, NORMAL sync) and apply pending migrations.
 *
 * A `postgres://` URL opens the PostgreSQL backend (./pg/open-pg.ts): the
 * same Store, its connection the facade of ./pg/pg-conn.ts (docs/hosts.md).
 *
 * Bad input writes nothing:
 * - `create: false` (every command but those that add work): a database that
 *   does not exist opens as an empty in-memory store, so `status` or an
 *   unknown project reports what it would on an empty database and no file
 *   or folder is created;
 * - a path that cannot be a database (a directory, a file that is not a
 *   database, a folder that cannot be created or written) is a usage error
 *   (exit 2) that names the path;
 * - `readOnly: true` (commands that only read): a database that cannot be
 *   written (read-only file, folder or file system) is opened read-only; a
 *   WAL database whose `-shm` cannot be created there is read from an
 *   in-memory copy. `store.readOnly` tells the caller not to write.
 * When aipm creates a `.aipm/` folder it writes `.aipm/.gitignore` (`*`), so
 * nothing of aipm is committed by accident.
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
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

import Database from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type * as schema from "./schema.js";
import { packageRoot } from "../util/package-root.js";
import { systemClock, type Clock } from "../util/time.js";
import { AipmError, usageError } from "../errors.js";
import { DB_FOLDER, isPostgresUrl, locateDb } from "./db-location.js";
import type { Backend, SqlConn } from "./sql-conn.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  readonly kind: Backend;
  /** The connection every store module uses: better-sqlite3's, or its PostgreSQL facade (./sql-conn.ts). */
  readonly conn: SqlConn;
  /** The drizzle database (SQLite only, when opened with `orm`, the default). */
  readonly db: Db;
  /** The raw better-sqlite3 connection (SQLite only: pragmas, the sidecar; everything else uses `conn`). */
  readonly sqlite: Database.Database;
  /** Absolute path of the database file, or the PostgreSQL URL (with its password: never print it, see redactDbUrl). */
  readonly path: string;
  /** The folder that holds the database (on PostgreSQL: this host's `.aipm/`); logs live under `<dir>/logs`. */
  readonly dir: string;
  readonly now: Clock;
  /** Opened read-only (the database cannot be written here): the caller must not write. */
  readonly readOnly: boolean;
  /** The database file does not exist: this is an empty in-memory store and nothing was created. */
  readonly missing: boolean;
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
  /** Working directory: where the database is looked for, and what a relative path is relative to (default process.cwd()). */
  cwd?: string;
  /** Create the database when it does not exist (default true); false opens a missing one as an empty in-memory store. */
  create?: boolean;
  /** The caller only reads: a database that cannot be written is opened read-only instead of failing. */
  readOnly?: boolean;
}

async function loadDrizzle(sqlite: Database.Database): Promise<Db> {
  const [{ drizzle }, schemaModule] = await Promise.all([import("drizzle-orm/better-sqlite3"), import("./schema.js")]);
  return drizzle(sqlite, { schema: schemaModule });
}

/** False once the store was closed (a late callback must not touch it). */
export function storeIsOpen(store: Store): boolean {
  return store.conn.open;
}

/** The database path a command would use: `--db`, `$AIPM_DB`, the nearest `.aipm/aipm.db` upward, `./.aipm/aipm.db`. */
export function resolveDbPath(opts: OpenOptions = {}): string {
  return locateDb({ db: opts.db, env: opts.env, cwd: opts.cwd }).path;
}

export async function openStore(opts: OpenOptions = {}): Promise<Store> {
  const path = resolveDbPath(opts);
  if (isPostgresUrl(path)) return (await import("./pg/open-pg.js")).openPgStore(path, opts);
  try {
    return await openAt(path, opts);
  } catch (err) {
    throw databaseError(path, err);
  }
}

type Opened = { sqlite: Database.Database; readOnly: boolean; missing: boolean };

async function openAt(path: string, opts: OpenOptions): Promise<Store> {
  const dir = dirname(path);
  const opened = openConnection(path, opts);
  const { sqlite } = opened;
  try {
    let db: Db | null = null;
    if (opened.missing) {
      db = await loadDrizzle(sqlite);
      (await import("drizzle-orm/better-sqlite3/migrator")).migrate(db, { migrationsFolder: migrationsFolder() });
    } else if (!isUpToDate(sqlite)) {
      if (opened.readOnly) throw usageError(`database ${path}: read-only, and its schema is older than this aipm (open it once where it can be written)`);
      db = await loadDrizzle(sqlite);
      await migrate(db, sqlite, path);
    }
    if (db === null && opts.orm !== false) db = await loadDrizzle(sqlite);
    return {
      kind: "sqlite",
      conn: sqlite,
      get db(): Db {
        if (db === null) throw new Error("internal: this store was opened without the ORM (openStore({ orm: true }))");
        return db;
      },
      sqlite,
      path,
      dir,
      now: opts.now ?? systemClock,
      readOnly: opened.readOnly,
      missing: opened.missing,
      close: () => sqlite.close(),
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

function openConnection(path: string, opts: OpenOptions): Opened {
  const dir = dirname(path);
  const stat = statOrNull(path);
  if (stat?.isDirectory()) throw usageError(`database ${path}: is a directory, not a database file`);
  if (stat === null && opts.create === false) return { sqlite: new Database(":memory:"), readOnly: false, missing: true };
  if (stat === null) {
    makeDbFolder(path);
  } else if (!writable(path) || !writable(dir)) {
    if (!opts.readOnly) throw usageError(`database ${path}: cannot be written here (${writable(path) ? "its folder" : "the file"} is read-only)`);
    return { sqlite: openReadOnly(path), readOnly: true, missing: false };
  }
  const sqlite = new Database(path);
  try {
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 10000");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
  } catch (err) {
    sqlite.close();
    throw err;
  }
  if (basename(dir) === DB_FOLDER) writeGitignore(dir);
  return { sqlite, readOnly: false, missing: false };
}

/**
 * A database this process cannot write. SQLite reads a WAL database read-only
 * only when its `-shm` exists or can be created; on a read-only folder or file
 * system after a clean close it cannot, so the file is read into memory (its
 * header switched to rollback mode, which is what it holds once checkpointed)
 * and opened read-only there.
 */
function openReadOnly(path: string): Database.Database {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  try {
    sqlite.pragma("busy_timeout = 10000");
    sqlite.prepare("SELECT COUNT(*) FROM sqlite_master").get();
    return sqlite;
  } catch (err) {
    sqlite.close();
    const code = (err as { code?: string }).code ?? "";
    if (code !== "SQLITE_CANTOPEN" || (statOrNull(`${path}-wal`)?.size ?? 0) > 0) throw err;
  }
  const image = readFileSync(path);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}

function makeDbFolder(path: string): void {
  const dir = dirname(path);
  if (existsSync(dir)) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    // A recursive mkdir on a read-only file system says ENOENT: ask the nearest existing folder why.
    let parent = dirname(dir);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    try {
      accessSync(parent, constants.W_OK);
    } catch (why) {
      const code = (why as NodeJS.ErrnoException).code ?? "";
      throw usageError(`database ${path}: cannot create its folder: ${REASONS[code] ?? code} (${parent})`);
    }
    throw err;
  }
}

/** `.aipm/.gitignore` with `*`: nothing under `.aipm/` is ever committed (written once, when missing). */
export function writeGitignore(dir: string): void {
  const file = join(dir, ".gitignore");
  if (existsSync(file)) return;
  try {
    writeFileSync(file, "# aipm's database and logs: never committed\n*\n", { flag: "wx" });
  } catch {
    /* another process wrote it, or the folder is not ours to write: not worth failing a command */
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const USAGE_CODES = new Set([
  "SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH",
  "EACCES", "EPERM", "EROFS", "EISDIR", "ENOTDIR", "ENOENT", "ELOOP", "ENAMETOOLONG",
]);

const REASONS: Record<string, string> = {
  SQLITE_CANTOPEN: "cannot be opened (is its folder missing, unreadable or read-only?)",
  SQLITE_NOTADB: "not a database file",
  SQLITE_CORRUPT: "the database file is corrupt",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a folder",
};

/** A database that cannot be opened is bad input (exit 2) naming the path; anything else keeps its kind, with the path. */
function databaseError(path: string, err: unknown): unknown {
  if (err instanceof AipmError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = String(e?.code ?? "");
  const base = code.replace(/_[A-Z]+$/, "");
  const usage = USAGE_CODES.has(code) || (base.startsWith("SQLITE_") && USAGE_CODES.has(base));
  const reason = REASONS[code] ?? REASONS[base] ?? e?.message ?? String(err);
  if (usage) return usageError(`database ${path}: ${reason}${code.startsWith("E") && e.path && e.path !== path ? ` (${e.path})` : ""}`);
  if (e instanceof Error && !e.message.includes(path)) e.message = `database ${path}: ${e.message}`;
  return err;
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
