/**
 * The store opened on a real PostgreSQL (`openStore({ db: "postgres://…" })`):
 * migrated on open, better-sqlite3's statement shapes through the facade
 * (src/store/pg/pg-conn.ts), booleans read as 1/0, transactions that roll
 * back and nest, writing transactions serialised across processes as
 * `BEGIN IMMEDIATE` serialises them on SQLite, and `dataVersion` moving on
 * another connection's commit only.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataVersion } from "../../src/store/data-version.js";
import { openStore, type Store } from "../../src/store/open.js";
import { type PgConn, WRITE_LOCK_KEY } from "../../src/store/pg/pg-conn.js";
import { stmt } from "../../src/store/statements.js";
import { type PgCluster, startPgCluster } from "../helpers/pg-cluster.js";
import { tempDir } from "../helpers.js";
import { waitFor } from "../runtime-helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("the store on PostgreSQL", () => {
  let cluster: PgCluster;
  let url: string;
  let store: Store;

  beforeAll(async () => {
    cluster = await startPgCluster();
    url = await cluster.createDatabase("store");
    store = await openStore({ db: url, cwd: tempDir() });
  }, 60_000);

  afterAll(async () => {
    store?.close();
    await cluster?.stop();
  });

  it("opens migrated, with this host's .aipm/ as its folder", () => {
    expect(store.kind).toBe("postgres");
    expect(store.dir).toMatch(/\/\.aipm$/);
    expect(stmt(store, "SELECT COUNT(*) FROM tasks").pluck().get()).toBe(0);
  });

  it("gives rows, plucked values, raw arrays and changes as better-sqlite3 does; booleans as 1/0", () => {
    stmt(store, "INSERT INTO projects (id, root, created_at) VALUES (?, ?, ?)").run("p", "/r", 1);
    const add = stmt(store, "INSERT INTO orders (project_id, id, title, active, paused, created_at) VALUES (@p, @id, @t, TRUE, FALSE, 5)");
    expect(add.run({ p: "p", id: "o1", t: "one" }).changes).toBe(1);
    expect(add.run({ p: "p", id: "o2", t: "two" }).changes).toBe(1);
    expect(stmt(store, "SELECT id, active, paused, created_at FROM orders WHERE project_id = ? ORDER BY id").get("p")).toEqual({
      id: "o1",
      active: 1,
      paused: 0,
      created_at: 5,
    });
    expect(stmt(store, "SELECT id FROM orders ORDER BY id").pluck().all()).toEqual(["o1", "o2"]);
    expect(stmt(store, "SELECT id, active FROM orders ORDER BY id").raw().all()).toEqual([
      ["o1", 1],
      ["o2", 1],
    ]);
    expect(stmt(store, "SELECT id FROM orders WHERE id = ?").get("nope")).toBeUndefined();
    expect(stmt(store, "UPDATE orders SET paused = TRUE WHERE project_id = ?").run("p").changes).toBe(2);
  });

  it("rolls a transaction back when its function throws; a nested one is a savepoint", () => {
    const count = () => stmt(store, "SELECT COUNT(*) FROM events").pluck().get();
    const add = stmt(store, "INSERT INTO events (ts, kind, project_id) VALUES (1, 'test', 'p')");
    const before = count() as number;
    expect(() =>
      store.conn
        .transaction(() => {
          add.run();
          throw new Error("no");
        })
        .immediate(),
    ).toThrow("no");
    expect(count()).toBe(before);
    store.conn
      .transaction(() => {
        add.run();
        try {
          store.conn.transaction(() => {
            add.run();
            throw new Error("inner");
          })();
        } catch {
          /* the inner one only is undone */
        }
      })
      .immediate();
    expect(count()).toBe(before + 1);
  });

  it("a batch of savepoints costs one round trip each (a release rides on the next one), and keeps their meaning", () => {
    const conn = store.conn as PgConn;
    const scripts: string[] = [];
    const script = conn.client.script.bind(conn.client);
    conn.client.script = (sql: string) => {
      scripts.push(sql);
      return script(sql);
    };
    const count = () => stmt(store, "SELECT COUNT(*) FROM events WHERE kind = 'sp'").pluck().get() as number;
    const add = stmt(store, "INSERT INTO events (ts, kind, project_id) VALUES (1, 'sp', 'p')");
    const nested = (fn: () => void) => store.conn.transaction(fn)();
    try {
      // Three transitions in one batch: BEGIN, three savepoints, COMMIT — no separate RELEASE.
      store.conn
        .transaction(() => {
          for (let i = 0; i < 3; i++) nested(() => add.run());
        })
        .immediate();
      expect(count()).toBe(3);
      expect(scripts).toEqual([
        `BEGIN; SELECT pg_advisory_xact_lock(${0x61697074})`,
        "SAVEPOINT aipm_sp1",
        "RELEASE SAVEPOINT aipm_sp1; SAVEPOINT aipm_sp1",
        "RELEASE SAVEPOINT aipm_sp1; SAVEPOINT aipm_sp1",
        "COMMIT",
      ]);
      // A failing one after a kept one (and a nested one inside it) undoes only itself, even when
      // its failure is the server's (a failed transaction refuses a RELEASE); the batch goes on.
      store.conn
        .transaction(() => {
          nested(() => {
            add.run();
            nested(() => add.run());
          });
          expect(() =>
            nested(() => {
              add.run();
              nested(() => add.run());
              stmt(store, "INSERT INTO no_such_table VALUES (1)").run();
            }),
          ).toThrow(/no_such_table/);
          nested(() => add.run());
        })
        .immediate();
      expect(count()).toBe(3 + 3);
      // The whole batch failing after kept savepoints rolls everything back; the connection goes on.
      expect(() =>
        store.conn
          .transaction(() => {
            nested(() => add.run());
            stmt(store, "SELECT no_such_column FROM events").get();
          })
          .immediate(),
      ).toThrow(/no_such_column/);
      expect(count()).toBe(6);
      expect(conn.inTransaction).toBe(false);
    } finally {
      conn.client.script = script;
    }
  });

  it("serialises writing transactions across processes (read, then write, nothing in between)", async () => {
    stmt(store, "CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)").run();
    stmt(store, "INSERT INTO counter (n) VALUES (0)").run();
    const script = `
      import { openStore } from ${JSON.stringify(join(ROOT, "src/store/open.ts"))};
      const store = await openStore({ db: ${JSON.stringify(url)}, cwd: ${JSON.stringify(tempDir())} });
      const read = store.conn.prepare("SELECT n FROM counter").pluck();
      const write = store.conn.prepare("UPDATE counter SET n = ?");
      for (let i = 0; i < 150; i++) store.conn.transaction(() => { const n = read.get(); write.run(n + 1); }).immediate();
      store.close();
    `;
    const runs = [1, 2, 3].map(
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, stdio: "inherit" });
          child.on("exit", resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    expect(stmt(store, "SELECT n FROM counter").pluck().get()).toBe(450);
  }, 120_000);

  it("moves dataVersion on another connection's commit, not on its own", async () => {
    const other = await openStore({ db: url, cwd: tempDir() });
    try {
      const v0 = dataVersion(store);
      let sentinel = false;
      const stop = (store.conn as PgConn).client.listen("aipm", (payload) => {
        if (payload === "sentinel") sentinel = true;
      });
      stmt(store, "UPDATE orders SET title = 'mine' WHERE id = 'o1'").run();
      stmt(other, "UPDATE orders SET title = 'theirs' WHERE id = 'o1'").run();
      stmt(other, "SELECT pg_notify('aipm', 'sentinel')").get();
      // Notifications arrive in commit order: once the sentinel is in, so is everything before it.
      await waitFor(() => sentinel, { what: "the sentinel notification" });
      stop();
      expect(dataVersion(store)).toBe(v0 + 2); // the other's update and the sentinel; our own update did not count
    } finally {
      other.close();
    }
  });

  it("a statement error caught inside a transaction still fails it: nothing is committed (PostgreSQL aborted it)", () => {
    const count = () => stmt(store, "SELECT COUNT(*) FROM events WHERE kind = 'caught'").pluck().get();
    expect(() =>
      store.conn
        .transaction(() => {
          stmt(store, "INSERT INTO events (ts, kind, project_id) VALUES (1, 'caught', 'p')").run();
          try {
            stmt(store, "INSERT INTO projects (id, root, created_at) VALUES ('p', '/r', 1)").run(); // a duplicate key
          } catch {
            /* the caller goes on, as it could on SQLite */
          }
        })
        .immediate(),
    ).toThrow(/duplicate key/);
    expect(count()).toBe(0);
    expect(stmt(store, "SELECT 1").pluck().get()).toBe(1); // and the connection is usable
  });

  it("a write lock that cannot be had (lock_timeout) leaves no transaction open", async () => {
    const holder = await openStore({ db: url, cwd: tempDir() });
    try {
      (holder.conn as PgConn).client.script(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
      stmt(store, "SET lock_timeout = '200ms'").run();
      expect(() => store.conn.transaction(() => stmt(store, "SELECT 1").get()).immediate()).toThrow(/lock timeout/);
      stmt(store, "SET lock_timeout = '20s'").run();
      expect(stmt(store, "SELECT 2").pluck().get()).toBe(2); // not "current transaction is aborted"
      (holder.conn as PgConn).client.script("COMMIT");
      store.conn.transaction(() => stmt(store, "SELECT 3").get()).immediate();
    } finally {
      holder.close();
    }
  });

  it("dataVersion is exact when it returns, and survives the loss of its LISTEN connection", async () => {
    const other = await openStore({ db: url, cwd: tempDir() });
    try {
      const v0 = dataVersion(store);
      stmt(other, "UPDATE orders SET title = 'x1' WHERE id = 'o1'").run();
      expect(dataVersion(store)).toBe(v0 + 1); // no event-loop turn needed, as with data_version
      // The server drops the LISTEN connection: the loss counts once, and later commits count again.
      stmt(other, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aipm-listen' AND datname = current_database()").all();
      await waitFor(() => dataVersion(store) > v0 + 1, { what: "the lost LISTEN connection noticed and made again" });
      const v1 = dataVersion(store);
      await waitFor(
        () => {
          stmt(other, "UPDATE orders SET title = 'x2' WHERE id = 'o1'").run();
          return dataVersion(store) > v1;
        },
        { what: "a commit counted on the new LISTEN connection" },
      );
    } finally {
      other.close();
    }
  });
});
