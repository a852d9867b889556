/**
 * Issue 11, item 12: symlinks in target_files are resolved within the project
 * root at input. A path that leaves the root through a link is rejected with
 * its place; two names of one file are stored as one (its real path relative
 * to the root), so they conflict.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { cli, tempDir, writePlan, store, snapshot } from "./helpers.js";
import { resolveTargetLinks } from "../src/paths/resolve-links.js";

function project() {
  const dir = tempDir();
  const root = join(dir, "ws");
  const outside = join(dir, "outside");
  mkdirSync(join(root, "real", "sub"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, "real", "a.ts"), "");
  symlinkSync("real", join(root, "link")); // relative, inside
  symlinkSync(join(root, "real"), join(root, "abs")); // absolute, inside
  symlinkSync("real/a.ts", join(root, "file-link"));
  symlinkSync(outside, join(root, "out"));
  symlinkSync("../outside", join(root, "out-rel"));
  symlinkSync(`../${basename(root)}/real`, join(root, "back")); // leaves and comes back
  symlinkSync("loop", join(root, "loop"));
  symlinkSync("nowhere/x", join(root, "dangling"));
  return { dir, root, db: join(dir, "aipm.db") };
}

describe("symlinks in target_files", () => {
  it("resolves each name to the real path relative to the root", () => {
    const { root } = project();
    const ok = (e: string) => resolveTargetLinks(root, e);
    expect(ok("link/a.ts")).toEqual({ ok: true, path: "real/a.ts" });
    expect(ok("abs/a.ts")).toEqual({ ok: true, path: "real/a.ts" });
    expect(ok("file-link")).toEqual({ ok: true, path: "real/a.ts" });
    expect(ok("back/sub/new.ts")).toEqual({ ok: true, path: "real/sub/new.ts" });
    expect(ok("link/not/yet.ts")).toEqual({ ok: true, path: "real/not/yet.ts" });
    expect(ok("link/**/*.ts")).toEqual({ ok: true, path: "real/**/*.ts" });
    expect(ok("{link,x}/a.ts")).toEqual({ ok: true, path: "{link,x}/a.ts" });
    expect(ok("dangling")).toEqual({ ok: true, path: "nowhere/x" });
    expect(ok("plain/file.ts")).toEqual({ ok: true, path: "plain/file.ts" });
    expect(ok(".")).toEqual({ ok: true, path: "." });
    expect(ok("out/x")).toMatchObject({ ok: false, error: expect.stringMatching(/^path leaves the project root through a symlink: out\/x \(-> .*outside\/x\)$/) });
    expect(ok("out-rel")).toMatchObject({ ok: false });
    expect(ok("loop/x")).toEqual({ ok: false, error: "too many levels of symbolic links: loop/x" });
    // A root that does not exist yet has no links.
    expect(resolveTargetLinks(join(root, "missing"), "a/b")).toEqual({ ok: true, path: "a/b" });
  });

  it("import stores the real path: two names of one file conflict", async () => {
    const { dir, root, db } = project();
    const plan = {
      project: "p",
      root,
      orders: [{ id: "O", tasks: [
        { id: "A", command: ["true"], target_files: ["link/a.ts"] },
        { id: "B", command: ["true"], target_files: ["real/a.ts"] },
        { id: "C", command: ["true"], target_files: ["file-link"] },
        { id: "D", command: ["true"], target_files: ["abs/sub"] },
      ] }],
    };
    const r = await cli(["--db", db, "import", writePlan(dir, "plan.json", plan)], { cwd: dir });
    expect(r.stderr).toBe("");
    const st = JSON.parse((await cli(["--db", db, "--json", "status", "p"], { cwd: dir })).stdout);
    expect(st.tasks.map((t: { target_files: string[] }) => t.target_files)).toEqual([["real/a.ts"], ["real/a.ts"], ["real/a.ts"], ["real/sub"]]);
    const dry = JSON.parse((await cli(["--db", db, "--json", "parallel-launch", "p", "O", "--dry-run"], { cwd: dir })).stdout);
    expect(dry.launchable.map((t: { task: string }) => t.task)).toEqual(["A", "D"]);
    expect(dry.skipped).toEqual([
      { task: "B", reason: "file_conflict", file: "real/a.ts", held_by: "A" },
      { task: "C", reason: "file_conflict", file: "real/a.ts", held_by: "A" },
    ]);
  });

  it("a path leaving the root through a link is rejected with its place, nothing written", async () => {
    const { dir, root, db } = project();
    const good = { project: "p", root, orders: [{ id: "O", tasks: [{ id: "A", command: ["true"], target_files: ["real/a.ts"] }] }] };
    expect((await cli(["--db", db, "import", writePlan(dir, "good.json", good)], { cwd: dir })).code).toBe(0);
    const s = await store(db);
    const before = snapshot(s);
    const bad = { ...good, orders: [{ id: "O", tasks: [{ id: "B", command: ["true"], target_files: ["real/b.ts", "out/secret"] }] }] };
    const r = await cli(["--db", db, "import", writePlan(dir, "bad.json", bad)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/orders\[0\]\.tasks\[0\]\.target_files\[1\]: path leaves the project root through a symlink: out\/secret/);
    const add = await cli(["--db", db, "task", "add", "p", "O", "C", "--command", "true", "--files", "out-rel/x"], { cwd: dir });
    expect(add.code).toBe(2);
    expect(add.stderr).toMatch(/^aipm: task\.target_files\[0\]: path leaves the project root through a symlink: out-rel\/x/);
    expect(snapshot(s)).toBe(before);
    const fine = await cli(["--db", db, "--json", "task", "add", "p", "O", "C", "--command", "true", "--files", "link/a.ts"], { cwd: dir });
    expect(fine.code).toBe(0);
    expect(s.conn.prepare("SELECT path FROM task_files WHERE task_id = 'C'").pluck().get()).toBe("real/a.ts");
  });

  it("a root reached through a symlink resolves the same way", async () => {
    const { dir, root, db } = project();
    symlinkSync(root, join(dir, "root-link"));
    const plan = { project: "p", root: "root-link", orders: [{ id: "O", tasks: [{ id: "A", command: ["true"], target_files: ["link/a.ts", "out/x"] }] }] };
    const r = await cli(["--db", db, "import", writePlan(dir, "plan.json", plan)], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("orders[0].tasks[0].target_files[1]: path leaves the project root");
    expect(r.stderr).not.toContain("target_files[0]");
  });
});
