/**
 * Opening the store on PostgreSQL (`--db postgres://…` or `AIPM_DB`): the
 * synchronous client (./sync-client.ts) behind the store's connection
 * (./pg-conn.ts), the migrations applied when pending (./migrate.ts, under an
 * advisory lock), and the local folder of this host.
 *
 * The database is shared by every host; logs, checkpoints (`AIPM_STATE_DIR`)
 * and the machine samples are not: they live in this host's `.aipm/` folder —
 * the nearest `.aipm/` in the working directory or above it, else
 * `./.aipm/` — which is `store.dir`, the "db folder" of the contract. aipm's
 * own child processes (supervisors, workers) start in the same directory and
 * find the same folder.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { usageError } from "../../errors.js";
import { systemClock } from "../../util/time.js";
import { DB_FOLDER, redactDbUrl } from "../db-location.js";
import { type OpenOptions, type Store, writeGitignore } from "../open.js";
import { latestPgMigration, migratePg } from "./migrate.js";
import { PgConn } from "./pg-conn.js";
import { PgError, SyncPgClient } from "./sync-client.js";

/** This host's `.aipm/` folder for a PostgreSQL database: the nearest one upward, else `<cwd>/.aipm`. */
export function localStateDir(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, DB_FOLDER);
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (dirname(dir) === dir) break;
  }
  return join(resolve(cwd), DB_FOLDER);
}

function isUpToDate(client: SyncPgClient): boolean {
  const table = client.query<{ t: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t")[0]?.t;
  if (!table) return false;
  const last = client.query<{ last: number | null }>("SELECT MAX(created_at) AS last FROM drizzle.__drizzle_migrations")[0]?.last;
  return Number(last ?? 0) >= latestPgMigration();
}

/** A connection that cannot be made or used is bad input naming the (redacted) URL: exit 2, one line. */
function connectError(url: string, err: unknown): Error {
  const e = err as { message?: string; code?: string };
  const why = e.code && !e.message?.includes(e.code) ? `${e.message} (${e.code})` : (e.message ?? String(err));
  return usageError(`database ${redactDbUrl(url)}: ${why.replace(url, redactDbUrl(url))}`);
}

export async function openPgStore(url: string, opts: OpenOptions): Promise<Store> {
  let client: SyncPgClient;
  try {
    client = new SyncPgClient(url, { timeoutMs: 60_000 });
    if (!isUpToDate(client)) await migratePg(url);
  } catch (err) {
    throw connectError(url, err);
  }
  const conn = new PgConn(client);
  const dir = localStateDir(opts.cwd ?? process.cwd());
  // Created by whatever first writes a log here; from then on it says `*` to git, as on SQLite.
  if (existsSync(dir)) writeGitignore(dir);
  return {
    kind: "postgres",
    conn,
    get db(): never {
      throw new Error("internal: the drizzle ORM is not available on PostgreSQL (use prepared statements through stmt())");
    },
    get sqlite(): never {
      throw new Error("internal: store.sqlite is SQLite's; use store.conn");
    },
    path: url,
    dir,
    now: opts.now ?? systemClock,
    readOnly: false,
    missing: false,
    close: () => conn.close(),
  };
}

export { PgError };
