/**
 * Issue 11, items 10 and 13: where the database is, and that bad input writes
 * nothing. The database is found like git finds `.git`; `.aipm/` carries its
 * own `.gitignore`; a command that fails, or only reads, creates no database;
 * a `--db` that cannot be a database is exit 2 naming the path; a database
 * that cannot be written can still be read.
 *
 * Read-only tests use a read-only tmpfs mount (the tests run as root, and
 * root ignores file permissions); where mounting is not permitted they are
 * skipped with a message.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, cli, tempDir, writePlan, REPO } from "./helpers.js";

function plan(root = ".") {
  return {
    project: "p",
    root,
    orders: [{ id: "O", tasks: [{ id: "A", command: ["true"], target_files: ["a.txt"] }, { id: "B", deps: ["A"], command: ["sh", "-c", "echo b > b.out"] }] }],
  };
}

const mounts: string[] = [];
afterEach(() => {
  while (mounts.length) spawnSync("umount", ["-l", mounts.pop()!]);
});

/** A small tmpfs at `dir`, or null (with a message) where mounting is not permitted. */
function tmpfs(dir: string): string | null {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8M", "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    console.warn(`SKIPPED: cannot mount a tmpfs here (${(r.stderr || r.error?.message || "").trim()}): read-only database tests not run`);
    return null;
  }
  mounts.push(dir);
  return dir;
}

function remountReadOnly(dir: string): void {
  execFileSync("mount", ["-o", "remount,ro", dir]);
}

describe("nothing is created by a command that fails or only reads", () => {
  it("an unknown project on a new --db path: exit 2, no database file, no folder", async () => {
    const dir = tempDir();
    const db = join(dir, "new", "sub", "aipm.db");
    const commands = [
      ["parallel-launch", "nope", "O", "--dry-run"],
      ["parallel-launch", "nope", "O"],
      ["task", "add", "nope", "O", "T", "--command", "true"],
      ["wait", "nope", "O"],
      ["status", "nope"],
      ["execute-task", "nope", "T"],
      ["pause", "nope", "O"],
      ["kill", "T"],
      ["retry", "T"],
      ["logs", "T"],
    ];
    for (const args of commands) {
      const r = await cli(["--db", db, ...args], { cwd: dir });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/unknown (project|task)/);
    }
    expect(existsSync(join(dir, "new"))).toBe(false);
  });

  it("read-only commands in a folder with no database anywhere create nothing (real processes)", () => {
    const dir = tempDir();
    for (const args of [["status"], ["--json", "status"], ["locks"], ["recover"], ["cleanup"], ["status", "p"], ["logs", "A"], ["wait", "p", "O"]]) {
      const r = bin(args, { cwd: dir });
      expect({ args, code: r.code, stderr: /\n\s+at /.test(r.stderr) }).toEqual({ args, code: args.length > 1 && args[0] !== "--json" ? 2 : 0, stderr: false });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it("an invalid plan on a new database creates nothing; a valid one creates .aipm/ with its .gitignore", async () => {
    const dir = tempDir();
    const bad = await cli(["import", writePlan(dir, "bad.json", { project: "p", orders: [{ id: "O", tasks: [{ id: "A", deps: ["Z"], command: "true" }] }] })], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("orders[0].tasks[0].deps[0]: unknown task Z");
    expect(existsSync(join(dir, ".aipm"))).toBe(false);
    const good = await cli(["import", writePlan(dir, "plan.json", plan())], { cwd: dir });
    expect(good.code).toBe(0);
    expect(existsSync(join(dir, ".aipm", "aipm.db"))).toBe(true);
    expect(readFileSync(join(dir, ".aipm", ".gitignore"), "utf8")).toMatch(/^\*$/m);
  });
});

describe("--db errors are exit 2 with one line naming the path", () => {
  it("a directory", async () => {
    const dir = tempDir();
    const r = await cli(["--db", dir, "status"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`aipm: database ${dir}: is a directory, not a database file\n`);
  });

  it("a file that is not a database, untouched", async () => {
    const dir = tempDir();
    const file = join(dir, "notes.txt");
    writeFileSync(file, "not a database, just notes\n".repeat(100));
    for (const args of [["status"], ["import", writePlan(dir, "plan.json", plan())]]) {
      const r = await cli(["--db", file, ...args], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`aipm: database ${file}: not a database file\n`);
    }
    expect(readFileSync(file, "utf8")).toBe("not a database, just notes\n".repeat(100));
  });

  it("a folder that cannot be created or written (read-only file system)", async (ctx) => {
    const dir = tempDir();
    const ro = tmpfs(join(dir, "ro"));
    if (!ro) return ctx.skip();
    remountReadOnly(ro);
    const db = join(ro, "x", "aipm.db");
    const r = bin(["--db", db, "import", writePlan(dir, "plan.json", plan(dir))], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`aipm: database ${db}: cannot create its folder: read-only file system (${ro})\n`);
    const r2 = bin(["--db", join(ro, "aipm.db"), "enqueue", "j", "--", "true"], { cwd: dir });
    expect(r2.code).toBe(2);
    expect(r2.stderr.split("\n")[0]).toContain(`database ${join(ro, "aipm.db")}: `);
  });
});

describe("a database that cannot be written can still be read", () => {
  async function finishedOrder(dir: string, db: string) {
    expect((await cli(["--db", db, "import", writePlan(dir, "plan.json", plan(dir))], { cwd: dir })).code).toBe(0);
    const run = bin(["--db", db, "--json", "parallel-launch", "p", "O", "--wait", "--timeout", "60", "--no-resource-monitoring"], { cwd: dir });
    expect(JSON.parse(run.stdout).done).toBe(true);
  }

  function readsWork(dir: string, db: string) {
    const st = bin(["--db", db, "--json", "status", "p", "--no-resource-monitoring"], { cwd: dir });
    expect(st.stderr).toBe("");
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).tasks.map((t: { status: string }) => t.status)).toEqual(["DONE", "DONE"]);
    const locks = bin(["--db", db, "--json", "locks"], { cwd: dir });
    expect(locks.code).toBe(0);
    expect(JSON.parse(locks.stdout)).toEqual({ locks: [] });
    const w = bin(["--db", db, "--json", "wait", "p", "O"], { cwd: dir });
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ project: "p", order: "O", done: true, counts: { DONE: 2 } });
    const logs = bin(["--db", db, "--json", "logs", "B"], { cwd: dir });
    expect(logs.code).toBe(0);
    // Writing is refused with one line naming the path.
    const launch = bin(["--db", db, "parallel-launch", "p", "O"], { cwd: dir });
    expect(launch.code).toBe(2);
    expect(launch.stderr).toMatch(new RegExp(`^aipm: database ${db.replace(/[.]/g, "\\.")}: cannot be written here`));
  }

  it("on a read-only file system after a clean close (no -shm: read from a copy in memory)", async (ctx) => {
    const dir = tempDir();
    const ro = tmpfs(join(dir, "m"));
    if (!ro) return ctx.skip();
    const db = join(ro, "aipm.db");
    await finishedOrder(dir, db);
    expect(existsSync(`${db}-shm`)).toBe(false);
    remountReadOnly(ro);
    readsWork(dir, db);
  }, 60_000);

  it("on a read-only file system with its -wal and -shm left (read in place)", async (ctx) => {
    const dir = tempDir();
    const ro = tmpfs(join(dir, "m"));
    if (!ro) return ctx.skip();
    const db = join(ro, "aipm.db");
    await finishedOrder(dir, db);
    // A process that writes and exits without closing leaves the WAL and its index behind.
    execFileSync(process.execPath, ["-e", `const D = require(${JSON.stringify(join(REPO, "node_modules", "better-sqlite3"))}); const d = new D(${JSON.stringify(db)}); d.prepare("UPDATE projects SET root = root").run(); process.exit(0);`]);
    expect(existsSync(`${db}-shm`)).toBe(true);
    remountReadOnly(ro);
    readsWork(dir, db);
  }, 60_000);
});

describe("the database is found like git finds .git", () => {
  function git(dir: string, ...args: string[]): string {
    return execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-C", dir, ...args], { encoding: "utf8" });
  }

  it("status and enqueue from a subfolder use the project's .aipm/; git status stays clean after a run", () => {
    const dir = tempDir();
    const sub = join(dir, "src", "deep");
    mkdirSync(sub, { recursive: true });
    writePlan(dir, "plan.json", plan());
    writeFileSync(join(dir, ".gitignore"), "b.out\n");
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "init");

    expect(bin(["import", "plan.json"], { cwd: dir }).code).toBe(0);
    const run = bin(["--json", "parallel-launch", "p", "O", "--wait", "--timeout", "60", "--no-resource-monitoring"], { cwd: sub });
    expect(JSON.parse(run.stdout).done).toBe(true);

    const st = bin(["--json", "status", "p", "--no-resource-monitoring"], { cwd: sub });
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).tasks.map((t: { task: string; status: string }) => `${t.task}:${t.status}`)).toEqual(["A:DONE", "B:DONE"]);

    const e1 = bin(["--json", "enqueue", "one", "--max-workers", "1", "--no-resource-monitoring", "--", "sleep", "5"], { cwd: dir });
    const e2 = bin(["--json", "enqueue", "two", "--max-workers", "1", "--no-resource-monitoring", "--", "true"], { cwd: sub });
    expect(JSON.parse(e1.stdout).started).toBe(true);
    expect(JSON.parse(e2.stdout)).toMatchObject({ task: "two", started: false, position: 1 });
    bin(["kill", "one", "--project", "default"], { cwd: sub });
    bin(["kill", "two", "--project", "default"], { cwd: sub });

    expect(readdirSync(sub)).toEqual([]);
    expect(existsSync(join(dir, ".aipm", "logs"))).toBe(true);
    expect(git(dir, "status", "--porcelain")).toBe("");
  }, 90_000);

  it("--db beats $AIPM_DB, which beats the search", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".aipm"));
    writeFileSync(join(dir, ".aipm", "aipm.db"), "");
    const { locateDb } = await import("../src/store/db-location.js");
    const sub = join(dir, "a", "b");
    expect(locateDb({ cwd: sub, env: {} })).toEqual({ path: join(dir, ".aipm", "aipm.db"), source: "found" });
    expect(locateDb({ cwd: sub, env: { AIPM_DB: "x.db" } })).toEqual({ path: join(sub, "x.db"), source: "env" });
    expect(locateDb({ cwd: sub, env: { AIPM_DB: "x.db" }, db: "../y.db" })).toEqual({ path: join(dir, "a", "y.db"), source: "flag" });
    expect(locateDb({ cwd: "/", env: {} }).source).toBe("default");
  });
});
