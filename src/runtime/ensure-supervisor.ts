/**
 * Handing a project over to a detached supervisor process when nobody
 * supervises it: `node dist/worker/supervise.js --db DB --project P`, in its
 * own session, output to `<db folder>/logs/<project>/supervisor.log`. It takes
 * the lease (or exits at once if another process was faster) and exits when
 * the project is idle.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/open.js";
import { packageRoot } from "../util/package-root.js";
import { leaseHolder } from "./lease.js";
import { thisHost } from "../config/host.js";

export function supervisorScript(): string {
  return join(packageRoot(), "dist", "worker", "supervise.js");
}

/** Starts a detached supervisor unless a live one holds the lease on this host. Returns its pid, or null. */
export function ensureSupervisor(store: Store, project: string, env: NodeJS.ProcessEnv): number | null {
  if (leaseHolder(store, project, thisHost(env).name) !== null) return null;
  const dir = join(store.dir, "logs", project);
  mkdirSync(dir, { recursive: true });
  const out = openSync(join(dir, "supervisor.log"), "a");
  try {
    // A PostgreSQL URL may hold a password: it goes in the environment, never on a command line (ps shows those).
    const url = store.kind === "postgres";
    const child = spawn(process.execPath, [supervisorScript(), "--db", url ? "env:AIPM_DB" : store.path, "--project", project], {
      detached: true,
      stdio: ["ignore", out, out],
      env: url ? { ...env, AIPM_DB: store.path } : env,
    });
    child.on("error", () => {});
    child.unref();
    return child.pid ?? null;
  } finally {
    closeSync(out);
  }
}
