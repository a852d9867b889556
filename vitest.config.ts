import { defineConfig } from "vitest/config";

/**
 * Two projects: every test on SQLite (the default backend), and the runtime
 * and acceptance-style tests again on a real PostgreSQL that each file starts
 * for itself (tests/helpers/test-backend.ts). db-trouble.test.ts is about
 * SQLite's files (locked, deleted, read-only, corrupt) and runs on SQLite only.
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

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", include: ["tests/**/*.test.ts"] } },
      { extends: true, test: { name: "postgres", include: ON_BOTH_BACKENDS, env: { AIPM_TEST_BACKEND: "postgres" } } },
    ],
  },
});
