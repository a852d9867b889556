/**
 * `--db postgres://…` and `AIPM_DB=postgres://…` are recognised as a
 * PostgreSQL database (never taken for a file path); one that cannot be
 * reached is refused with one clear line and exit 2, writing nothing (its
 * password never shown).
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resolveDbPath } from "../../src/store/open.js";
import { isPostgresUrl, redactDbUrl } from "../../src/store/db-location.js";
import { bin, cli, tempDir, writePlan } from "../helpers.js";

const URL = "postgres://aipm:s3cret@127.0.0.1:1/aipm";
const UNREACHABLE = /^aipm: .*database postgres:\/\/aipm:\*\*\*@127\.0\.0\.1:1\/aipm: .*ECONNREFUSED/;

const plan = { project: "p", root: ".", orders: [{ id: "O", tasks: [{ id: "A", command: ["true"] }] }] };

function expectRefused(r: { code: number; stdout: string; stderr: string }, dir: string, files: string[]): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(UNREACHABLE);
  expect(lines[0]).not.toContain("s3cret");
  expect(r.stdout).toBe("");
  expect(readdirSync(dir).sort()).toEqual(files);
}

describe("a postgres:// database", () => {
  it("is a URL, not a file path", () => {
    expect(isPostgresUrl(URL)).toBe(true);
    expect(isPostgresUrl("postgresql://h/db")).toBe(true);
    expect(isPostgresUrl("./postgres.db")).toBe(false);
    expect(resolveDbPath({ db: URL, cwd: "/tmp" })).toBe(URL);
    expect(resolveDbPath({ env: { AIPM_DB: URL }, cwd: "/tmp" })).toBe(URL);
    expect(redactDbUrl(URL)).toBe("postgres://aipm:***@127.0.0.1:1/aipm");
    expect(redactDbUrl("postgres://h/db")).toBe("postgres://h/db");
  });

  it("--db postgres://…: exit 2, one line, nothing written, for commands that read and that write", async () => {
    const dir = tempDir();
    writePlan(dir, "plan.json", plan);
    for (const args of [["status"], ["import", "plan.json"], ["task", "add", "p", "O", "T", "--command", "true"], ["parallel-launch", "p", "O"], ["locks"]]) {
      const r = await cli([...args, "--db", URL], { cwd: dir });
      expectRefused(r, dir, ["plan.json"]);
    }
  });

  it("AIPM_DB=postgres://… in the built CLI: exit 2, one line, nothing written", () => {
    const dir = tempDir();
    writePlan(dir, "plan.json", plan);
    for (const args of [["status"], ["import", "plan.json"]]) {
      const r = bin(args, { cwd: dir, env: { AIPM_DB: URL } });
      expectRefused(r, dir, ["plan.json"]);
    }
  });
});
