/**
 * Applying the PostgreSQL migrations (migrations-pg/, written by drizzle-kit
 * from ./schema.ts) when a store opens.
 *
 * drizzle's migrator creates its bookkeeping (`drizzle.__drizzle_migrations`)
 * and reads the last applied migration outside its transaction, so two
 * processes opening a fresh database at once would both create the schema
 * and one would fail. The migration therefore runs under a session-level
 * `pg_advisory_lock` held by the migrating connection (every aipm process on
 * every host uses the same key); the common path — nothing pending — is one
 * query and takes no lock.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { packageRoot } from "../../util/package-root.js";

/** The advisory lock key aipm's migrations take ("aipm" in ASCII). */
export const MIGRATE_LOCK_KEY = 0x6169706d;

export function pgMigrationsFolder(): string {
  return join(packageRoot(), "migrations-pg");
}

/** The newest migration's timestamp in the folder (what an up-to-date database has applied). */
export function latestPgMigration(folder = pgMigrationsFolder()): number {
  return latestMigration(folder);
}

function latestMigration(folder: string): number {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as { entries: Array<{ when: number }> };
  return journal.entries.reduce((m, e) => Math.max(m, e.when), 0);
}

async function appliedUpTo(client: pg.Client): Promise<{ count: number; last: number }> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t");
  if (!exists.rows[0]?.t) return { count: 0, last: 0 };
  const r = await client.query<{ n: string; last: string | null }>("SELECT COUNT(*) AS n, MAX(created_at) AS last FROM drizzle.__drizzle_migrations");
  return { count: Number(r.rows[0]?.n ?? 0), last: Number(r.rows[0]?.last ?? 0) };
}

/** Bring the database at `url` up to date; how many migrations this call applied (0: it was up to date, or another process did it). */
export async function migratePg(url: string, opts: { migrationsFolder?: string } = {}): Promise<{ applied: number }> {
  const folder = opts.migrationsFolder ?? pgMigrationsFolder();
  const latest = latestMigration(folder);
  const client = new pg.Client({ connectionString: url, application_name: "aipm-migrate" });
  await client.connect();
  try {
    if ((await appliedUpTo(client)).last >= latest) return { applied: 0 };
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY]);
    try {
      const before = await appliedUpTo(client);
      if (before.last >= latest) return { applied: 0 };
      const [{ drizzle }, { migrate }] = await Promise.all([import("drizzle-orm/node-postgres"), import("drizzle-orm/node-postgres/migrator")]);
      await migrate(drizzle(client), { migrationsFolder: folder });
      return { applied: (await appliedUpTo(client)).count - before.count };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
