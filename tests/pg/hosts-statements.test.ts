/**
 * The hosts stage's statements (src/store/hosts.ts, and recoverLost and the
 * per-host count in src/store/transitions.ts) are written to run unchanged
 * on SQLite and PostgreSQL (docs/hosts.md, "Porting the statements"). Here
 * they run on a real PostgreSQL 15, through the store functions themselves
 * on the store opened with a URL (src/store/pg/pg-conn.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncPgClient } from "../../src/store/pg/sync-client.js";
import { openStore, type Store } from "../../src/store/open.js";
import { tempDir } from "../helpers.js";
import { attemptHost, beatHost, hostRows, lostAttempts, recoveredSince, runningByHost, runningOnHost } from "../../src/store/hosts.js";
import { recoverLost } from "../../src/store/transitions.js";
import { type PgCluster, startPgCluster } from "../helpers/pg-cluster.js";

describe("the hosts statements on a real PostgreSQL", () => {
  let cluster: PgCluster;
  let db: SyncPgClient;
  let s: Store;
  beforeAll(async () => {
    cluster = await startPgCluster();
    const url = await cluster.createDatabase();
    s = await openStore({ db: url, cwd: tempDir() });
    db = new SyncPgClient(url);
  }, 60_000);
  afterAll(async () => {
    db?.close();
    s?.close();
    await cluster?.stop();
  });

  it("heartbeats, per-host counts, a silent host's attempts, recovery once, a returning host's processes", () => {
    expect(s.kind).toBe("postgres");
    const now = Date.now();
    db.query("INSERT INTO projects (id, root, created_at) VALUES ('p', '/r', 1)");
    db.query("INSERT INTO orders (project_id, id, title, created_at) VALUES ('p', 'O', '', 1)");
    db.query(
      `INSERT INTO tasks (project_id, id, order_id, status, review, created_at, updated_at) VALUES
         ('p', 'A', 'O', 'QUEUED', false, 1, 1), ('p', 'B', 'O', 'QUEUED', false, 1, 1), ('p', 'C', 'O', 'QUEUED', false, 1, 1)`,
    );
    db.query("INSERT INTO task_files (project_id, task_id, position, path) VALUES ('p', 'A', 0, 'a.txt')");

    // A and B claimed by h1 and h2 (the claim itself waits for the port of its older statements: INSERT OR IGNORE).
    db.query("UPDATE tasks SET status = 'IN_PROGRESS', attempt = 1, spent_attempts = 1 WHERE id IN ('A', 'B')");
    db.query(
      `INSERT INTO runs (project_id, task_id, attempt, log_path, started_at, outcome, host) VALUES
         ('p', 'A', 1, '/l/A/1.log', $1, 'running', 'h1'), ('p', 'B', 1, '/l/B/1.log', $1, 'running', 'h2')`,
      [now - 20_000],
    );
    db.query("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES ('p', 'A', 'a.txt', 1)");
    expect(runningOnHost(s, "p", "h1")).toBe(1);
    expect(runningOnHost(s, "p", "h3")).toBe(0);
    expect([...runningByHost(s, "p")].sort()).toEqual([
      ["h1", 1],
      ["h2", 1],
    ]);
    expect(attemptHost(s, "p", "A", 1)).toBe("h1");
    db.query("UPDATE runs SET pid = $1, proc_start = 'x' WHERE task_id = 'A'", [4242]);

    // Heartbeats: the previous one is returned; the sample is kept when a beat has none.
    expect(beatHost(s, { host: "h1", labels: ["gpu"], cpuPercent: 10, memoryPercent: 20, version: "1.0" }, now - 30_000)).toBeNull();
    expect(beatHost(s, { host: "h1", labels: ["gpu"] }, now - 10_000)).toBe(now - 30_000);
    expect(beatHost(s, { host: "h2", labels: [] }, now)).toBeNull();
    expect(hostRows(s).map((h) => [h.host, h.labels, h.heartbeatAt, h.startedAt, h.cpuPercent, h.memoryPercent, h.version])).toEqual([
      ["h1", ["gpu"], now - 10_000, now - 30_000, 10, 20, "1.0"],
      ["h2", [], now, now, null, null, null],
    ]);

    // h1 silent for 10 s, lease 5 s: its attempt, seen from h2 (not from h1 itself).
    const lost = lostAttempts(s, { project: "p", host: "h2", cutoff: now - 5000 });
    expect(lost).toEqual([{ project: "p", order: "O", task: "A", attempt: 1, host: "h1", heartbeatAt: now - 10_000, startedAt: expect.any(Number) }]);
    expect(lostAttempts(s, { host: "h1", cutoff: now - 5000 })).toEqual([]);

    const input = { project: "p", task: "A", attempt: 1, host: "h1", by: "h2", heartbeatAt: now - 10_000, leaseS: 5, backoffS: 0 };
    expect(recoverLost(s, { ...input, host: "h3" })).toEqual({ ok: false, status: "IN_PROGRESS" });
    expect(recoverLost(s, input)).toMatchObject({ ok: true, status: "QUEUED" });
    expect(recoverLost(s, { ...input, by: "h3" })).toEqual({ ok: false, status: "QUEUED" });
    expect(db.query("SELECT status, attempt, spent_attempts, failure_kind FROM tasks WHERE id = 'A'")).toEqual([
      { status: "QUEUED", attempt: 1, spent_attempts: 1, failure_kind: "crashed" },
    ]);
    expect(db.query("SELECT COUNT(*)::int AS n FROM locks")).toEqual([{ n: 0 }]);
    expect(db.query("SELECT outcome, error FROM runs WHERE task_id = 'A'")).toEqual([
      { outcome: "crashed", error: expect.stringMatching(/^host h1 silent for 1\d(\.\d)? s \(AIPM_HOST_LEASE_S=5\): attempt recovered by h2$/) },
    ]);
    expect(db.query("SELECT kind FROM events WHERE task_id = 'A'")).toEqual([{ kind: "task_retry" }]);

    // h1 comes back: its processes whose attempts were recovered since its last beat.
    expect(recoveredSince(s, "h1", now - 10_000)).toEqual([{ project: "p", task: "A", attempt: 1, pid: 4242, procStart: "x" }]);
    expect(recoveredSince(s, "h2", now - 10_000)).toEqual([]);
  });
});
