import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Two projects: every test on SQLite (the default backend), and the runtime
 * and acceptance-style tests again on a real PostgreSQL that each file starts
 * for itself (tests/helpers/test-backend.ts). db-trouble.test.ts is about
 * SQLite's files (locked, deleted, read-only, corrupt) and runs on SQLite only.
 *
 * Without PostgreSQL's server binaries (Debian's `postgresql`, or AIPM_TEST_PG_BIN) the second
 * project is left out with a note, except under CI=true, where it must run (.ci/run installs them).
 */
const ON_BOTH_BACKENDS = [
  "agent-workers",
  "attempt-end",
  "conditions",
  "dashboard-hosts",
  "dashboard-views",
  "dashboard-wire",
  "dashboard",
  "git-sync",
  "hosts-recovery",
  "hosts",
  "import",
  "log-volume",
  "long-jobs",
  "mcp-server",
  "notifications",
  "runtime-concurrency",
  "runtime-order",
  "supervisor-loop",
  "terminal-status",
  "wait-all",
].map((name) => `tests/${name}.test.ts`);

const PG_BASE = "/usr/lib/postgresql";
const pgInstalled =
  process.env.AIPM_TEST_PG_BIN !== undefined ||
  (existsSync(PG_BASE) && readdirSync(PG_BASE).some((v) => existsSync(join(PG_BASE, v, "bin", "pg_ctl"))));
const onPostgres = pgInstalled || process.env.CI === "true";
if (!onPostgres) console.warn("aipm tests: PostgreSQL's server binaries are not installed: the runtime tests run on SQLite only (apt-get install postgresql)");

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", include: ["tests/**/*.test.ts"] } },
      ...(onPostgres ? [{ extends: true as const, test: { name: "postgres", include: ON_BOTH_BACKENDS, env: { AIPM_TEST_BACKEND: "postgres" } } }] : []),
    ],
  },
});
