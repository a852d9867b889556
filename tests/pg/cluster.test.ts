/**
 * The test helper that runs a real PostgreSQL (tests/helpers/pg-cluster.ts):
 * it starts, answers on its URL, gives fresh databases, and leaves nothing
 * behind — also when the test process is SIGKILLed.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgCluster, processAlive, startPgCluster } from "../helpers/pg-cluster.js";

const ROOT = join(import.meta.dirname, "..", "..");

function postmasterPid(dir: string): number | null {
  const file = join(dir, "data", "postmaster.pid");
  if (!existsSync(file)) return null;
  return Number(readFileSync(file, "utf8").split("\n")[0]);
}

const alive = processAlive;

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a real PostgreSQL for tests", () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("answers on its loopback URL and gives fresh databases", async () => {
    expect(cluster.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const url = await cluster.createDatabase("fresh_one");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const r = await client.query<{ db: string; v: string }>("SELECT current_database() AS db, current_setting('server_version_num') AS v");
      expect(r.rows[0]?.db).toBe("fresh_one");
      expect(Number(r.rows[0]?.v)).toBeGreaterThanOrEqual(150000);
    } finally {
      await client.end();
    }
  });

  it("stop() stops the server and removes its dir", async () => {
    const other = await startPgCluster();
    const pid = postmasterPid(other.dir);
    expect(pid).not.toBeNull();
    expect(alive(pid!)).toBe(true);
    await other.stop();
    expect(alive(pid!)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
  }, 60_000);

  it("a test process killed with SIGKILL leaves no postmaster and no dir behind", async () => {
    const script = `
      import { startPgCluster } from ${JSON.stringify(join(ROOT, "tests/helpers/pg-cluster.ts"))};
      const c = await startPgCluster();
      process.stdout.write(JSON.stringify({ dir: c.dir }) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    await until(() => out.includes("\n"), 60_000);
    const { dir } = JSON.parse(out) as { dir: string };
    const pid = postmasterPid(dir);
    expect(pid).not.toBeNull();
    expect(alive(pid!)).toBe(true);
    child.kill("SIGKILL");
    await until(() => !alive(pid!) && !existsSync(dir));
  }, 90_000);
});
