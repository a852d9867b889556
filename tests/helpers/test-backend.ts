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
export function freshPgDatabase(): string {
  if (!cluster) throw new Error("internal: the test's PostgreSQL server is not started (AIPM_TEST_BACKEND=postgres outside a test file?)");
  admin ??= new SyncPgClient(cluster.url);
  const name = `w${process.pid}_${next++}`;
  admin.exec(`CREATE DATABASE ${name}`);
  return cluster.url.replace(/\/[^/]*$/, `/${name}`);
}
