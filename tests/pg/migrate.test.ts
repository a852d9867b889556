/**
 * The PostgreSQL migrations (migrations-pg/) apply on a fresh database, are
 * a no-op the second time, and two processes opening a fresh database at
 * once both succeed with the schema created once (pg_advisory_lock).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratePg } from "../../src/store/pg/migrate.js";
import { type PgCluster, startPgCluster } from "../helpers/pg-cluster.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** Migrations in migrations-pg/ (drizzle-kit's journal): a fresh database applies them all. */
const MIGRATIONS = (JSON.parse(readFileSync(join(ROOT, "migrations-pg", "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;

async function rows<T>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A process that migrates `url` when it reads "go" on stdin; resolves with its output (JSON) and exit code. */
function migrator(url: string): { ready: Promise<void>; go: () => void; done: Promise<{ code: number | null; out: string; err: string }> } {
  const script = `
    import { migratePg } from ${JSON.stringify(join(ROOT, "src/store/pg/migrate.ts"))};
    process.stdout.write("ready\\n");
    process.stdin.once("data", async () => {
      const r = await migratePg(${JSON.stringify(url)});
      process.stdout.write(JSON.stringify(r) + "\\n");
      process.exit(0);
    });
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("ready\n")) onReady();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
  return { ready, go: () => child.stdin.write("go\n"), done };
}

const TABLES = ["alarms", "deliveries", "events", "hosts", "locks", "machine_samples", "notify_cursors", "orders", "project_roots", "projects", "runs", "supervisors", "task_deps", "task_files", "tasks"];

describe("PostgreSQL migrations", () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("create every table on a fresh database, and change nothing the second time", async () => {
    const url = await cluster.createDatabase();
    expect(await migratePg(url)).toEqual({ applied: MIGRATIONS });
    const tables = await rows<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((r) => r.t)).toEqual(TABLES);
    // Every table but machine_samples and hosts (heartbeats wake nobody: docs/hosts.md) notifies channel 'aipm' on a change.
    const notifying = await rows<{ t: string }>(url, "SELECT tgrelid::regclass::text AS t FROM pg_trigger WHERE tgname = 'aipm_notify' ORDER BY 1");
    expect(notifying.map((r) => r.t)).toEqual(TABLES.filter((t) => t !== "machine_samples" && t !== "hosts"));
    expect(await migratePg(url)).toEqual({ applied: 0 });
    const applied = await rows<{ n: number }>(url, "SELECT COUNT(*)::int AS n FROM drizzle.__drizzle_migrations");
    expect(applied).toEqual([{ n: MIGRATIONS }]);
  });

  it("two processes opening a fresh database at once: both succeed, the schema is created once", async () => {
    const url = await cluster.createDatabase();
    const procs = [migrator(url), migrator(url), migrator(url)];
    await Promise.all(procs.map((p) => p.ready));
    for (const p of procs) p.go();
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
    const applied = results.map((r) => (JSON.parse(r.out.split("\n")[1]!) as { applied: number }).applied).sort();
    expect(applied).toEqual([0, 0, MIGRATIONS]);
    expect(await rows(url, "SELECT COUNT(*)::int AS n FROM drizzle.__drizzle_migrations")).toEqual([{ n: MIGRATIONS }]);
    const tables = await rows<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((r) => r.t)).toEqual(TABLES);
  }, 60_000);
});
