/**
 * Which database a command uses, found the way git finds `.git`:
 *
 * 1. `--db PATH` (relative to the working directory);
 * 2. else `$AIPM_DB`;
 * 3. else the nearest `.aipm/aipm.db` in the working directory or above it;
 * 4. else `./.aipm/aipm.db` (created only by a command that writes something).
 *
 * So a command run anywhere inside a project sees the project's database, and
 * `enqueue` from a subfolder joins the same queue.
 *
 * A `postgres://` (or `postgresql://`) URL in `--db` or `$AIPM_DB` names a
 * PostgreSQL database: it is kept as given (never taken for a file path);
 * see docs/hosts.md for what works on PostgreSQL today.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const DB_FOLDER = ".aipm";
export const DB_FILE = "aipm.db";

export type DbSource = "flag" | "env" | "found" | "default";

export interface DbLocation {
  /** Absolute path of the database file. */
  path: string;
  source: DbSource;
}

/** `postgres://…` or `postgresql://…`: a PostgreSQL connection URL, not a file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** A database URL fit for a message: its password replaced by `***`. */
export function redactDbUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

export function locateDb(opts: { db?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string | undefined }): DbLocation {
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (opts.db) return { path: isPostgresUrl(opts.db) ? opts.db : resolve(cwd, opts.db), source: "flag" };
  const fromEnv = (opts.env ?? process.env).AIPM_DB;
  if (fromEnv) return { path: isPostgresUrl(fromEnv) ? fromEnv : resolve(cwd, fromEnv), source: "env" };
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, DB_FOLDER, DB_FILE);
    if (existsSync(candidate)) return { path: candidate, source: "found" };
    if (dirname(dir) === dir) break;
  }
  return { path: join(cwd, DB_FOLDER, DB_FILE), source: "default" };
}
