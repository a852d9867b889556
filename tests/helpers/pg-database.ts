/**
 * A test file's own migrated PostgreSQL database (a vitest helper: it registers hooks). Kept
 * apart from ./pg-cluster.ts, which the benchmarks import outside vitest.
 */
import { afterAll, beforeAll } from "vitest";
import { migratePg } from "../../src/store/pg/migrate.js";
import { SyncPgClient } from "../../src/store/pg/sync-client.js";
import { type PgCluster, startPgCluster } from "./pg-cluster.js";

/**
 * A migrated database on a server of the calling test file's own, through the synchronous
 * client: `beforeAll` starts the server, creates the database and migrates it; `afterAll` stops
 * it. Read `client` and `url` inside the tests.
 */
export function migratedPgDatabase(): { readonly client: SyncPgClient; readonly url: string } {
  let cluster: PgCluster | null = null;
  const db = { client: null as unknown as SyncPgClient, url: "" };
  beforeAll(async () => {
    cluster = await startPgCluster();
    db.url = await cluster.createDatabase();
    await migratePg(db.url);
    db.client = new SyncPgClient(db.url);
  }, 60_000);
  afterAll(async () => {
    db.client?.close();
    await cluster?.stop();
  });
  return db;
}
