/**
 * Which database the runtime tests run on. `AIPM_TEST_BACKEND=postgres`
 * (the `postgres` project in vitest.config.ts) runs them on a real
 * PostgreSQL: one server per test file (tests/helpers/pg-cluster.ts, started
 * before the file's tests), one fresh database per test world (`setup()` in
 * tests/runtime-helpers.ts). Otherwise each world has its SQLite file, as
 * always.
 */
import { afterAll, beforeAll } from "vitest";
import { SyncPgClient } from "../../src/store/pg/sync-client.js";
import { type PgCluster, startPgCluster } from "./pg-cluster.js";

export const onPostgres = process.env.AIPM_TEST_BACKEND === "postgres";

let cluster: PgCluster | null = null;
let admin: SyncPgClient | null = null;
let next = 0;
/** Each world's folder by its database URL: a store the test opens itself finds the world's .aipm/ from there. */
const worlds = new Map<string, string>();

/** Where a store of `db` opened by the test process should think it runs (its cwd): the world's folder on PostgreSQL. */
export function worldDirOf(db: string): string | undefined {
  return worlds.get(db);
}

if (onPostgres) {
  beforeAll(async () => {
    cluster = await startPgCluster();
  }, 60_000);
  afterAll(async () => {
    admin?.close();
    await cluster?.stop();
  });
}

/** A fresh PostgreSQL database for one test world; its URL. Synchronous, so `setup()` stays so. */
export function freshPgDatabase(worldDir: string): string {
  if (!cluster) throw new Error("internal: the test's PostgreSQL server is not started (AIPM_TEST_BACKEND=postgres outside a test file?)");
  admin ??= new SyncPgClient(cluster.url);
  const name = `w${process.pid}_${next++}`;
  admin.exec(`CREATE DATABASE ${name}`);
  const url = cluster.url.replace(/\/[^/]*$/, `/${name}`);
  worlds.set(url, worldDir);
  return url;
}
