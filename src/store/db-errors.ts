/**
 * Database errors, sorted for whoever meets one. `busy`: another process
 * held the write lock past the busy timeout (a backup, a `sqlite3` shell) —
 * try again later. Anything else from SQLite (a full disk, an I/O error, a
 * read-only or corrupt file) will not pass by waiting: stop with one line.
 */
import { statSync } from "node:fs";
import { redactDbUrl } from "./db-location.js";

function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

/** An error of the PostgreSQL client (./pg/sync-client.ts PgError), with its SQLSTATE when the server gave one. */
function isPgError(err: unknown): err is Error & { code?: string } {
  return err instanceof Error && err.name === "PgError";
}

/** PostgreSQL's "try again": serialization failure, deadlock, lock not available. */
const PG_BUSY = new Set(["40001", "40P01", "55P03"]);

export function isDbError(err: unknown): boolean {
  return sqliteCode(err) !== null || isPgError(err);
}

export function isBusy(err: unknown): boolean {
  if (isPgError(err)) return PG_BUSY.has(err.code ?? "");
  const code = sqliteCode(err);
  return code !== null && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** One line: what went wrong with the database, in words, with SQLite's code. */
export function describeDbError(err: unknown, path?: string): string {
  if (isPgError(err)) return `database${path ? ` ${redactDbUrl(path)}` : ""}: ${err.message}${err.code ? ` (${err.code})` : ""}`;
  const code = sqliteCode(err) ?? "?";
  const what =
    code.startsWith("SQLITE_FULL") ? "the disk is full"
    : code.startsWith("SQLITE_IOERR") ? "an I/O error"
    : code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") ? "another process held the database locked too long"
    : code.startsWith("SQLITE_READONLY") ? "the database cannot be written"
    : code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB" ? "the database file is damaged"
    : code.startsWith("SQLITE_CANTOPEN") ? "the database file cannot be opened"
    : (err as Error).message;
  return `database${path ? ` ${path}` : ""}: ${what} (${code})`;
}

/** The identity of a file (device and inode), or null when it is gone. */
export function fileIdentity(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
