/**
 * A real PostgreSQL server for tests: `initdb` into a temp dir, `pg_ctl start`
 * on a free loopback port, a URL back, and everything stopped and removed
 * afterwards.
 *
 * - PostgreSQL refuses to run as root: when the tests run as root, initdb and
 *   pg_ctl run as the `postgres` user (`runuser -u postgres --`), in a temp dir
 *   that user owns; as any other user they run as that user.
 * - The binaries: `$AIPM_TEST_PG_BIN`, else the newest
 *   `/usr/lib/postgresql/<version>/bin` (Debian), else `PATH`.
 * - No stray postmasters: a detached watchdog (a tiny node process) waits for
 *   the test process to end and then stops the server (`pg_ctl stop -m
 *   immediate`) and removes its dir, so a test run killed by SIGKILL leaves
 *   nothing running. `stop()` does the same at once.
 * - Trust authentication on 127.0.0.1 only, the socket in the temp dir;
 *   `fsync` off by default (tests do not survive power loss; pass
 *   `{ durable: true }` to measure a server that syncs like a real one).
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** The cluster's temp dir (data in `<dir>/data`, the socket and the log beside it). */
  readonly dir: string;
  /** A fresh, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stop the server and remove its dir (idempotent). */
  stop(): Promise<void>;
}

export interface PgClusterOptions {
  /** Sync to disk like a production server (fsync, synchronous_commit on). Default false. */
  durable?: boolean;
}

export function pgBinDir(): string | null {
  const fromEnv = process.env.AIPM_TEST_PG_BIN;
  if (fromEnv) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : null;
}

/** True when a PostgreSQL server can be started here (the binaries exist, and as root a `postgres` user). */
export function pgAvailable(): boolean {
  const bin = pgBinDir();
  if (bin === null) return false;
  return existsSync(join(bin, "initdb"));
}

function asServerUser(): { wrap: (cmd: string, args: string[]) => [string, string[]]; uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  return {
    wrap: (cmd, args) => ["runuser", ["-u", "postgres", "--", cmd, ...args]],
    ...postgresIds(),
  };
}

function postgresIds(): { uid: number; gid: number } {
  const passwd = readFileSync("/etc/passwd", "utf8");
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("tests run as root and there is no `postgres` user to run PostgreSQL as (apt-get install postgresql creates it)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The watchdog: stops the server and removes its dir once `parent` has exited (or when told to). */
const WATCHDOG = `
const { execFileSync } = require("node:child_process");
const { rmSync } = require("node:fs");
const [parent, dir, ...stopCmd] = process.argv.slice(1);
function alive(pid) { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === "EPERM"; } }
function cleanup() {
  try { execFileSync(stopCmd[0], stopCmd.slice(1), { stdio: "ignore", timeout: 20000 }); } catch {}
  try { rmSync(dir, { recursive: true, force: true }); } catch {}
  process.exit(0);
}
process.on("SIGTERM", cleanup);
setInterval(() => { if (!alive(parent)) cleanup(); }, 300);
`;

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  if (bin === null) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin; set AIPM_TEST_PG_BIN or apt-get install postgresql)");
  const as = asServerUser();
  const wrap = as?.wrap ?? ((cmd: string, args: string[]): [string, string[]] => [cmd, args]);
  const dir = mkdtempSync(join(tmpdir(), "aipm-pg-"));
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chmodSync(dir, 0o700);
  }
  const data = join(dir, "data");
  const pgCtl = join(bin, "pg_ctl");
  const [stopCmd, stopArgs] = wrap(pgCtl, ["stop", "-D", data, "-m", "immediate", "-w", "-t", "15"]);
  // The watchdog first: whatever happens from here on, the dir goes away with this process.
  const watchdog = spawn(process.execPath, ["-e", WATCHDOG, String(process.pid), dir, stopCmd, ...stopArgs], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const pid = postmasterPid(data);
    try {
      const [c, a] = wrap(pgCtl, ["stop", "-D", data, "-m", "fast", "-w", "-t", "15"]);
      if (existsSync(join(data, "postmaster.pid"))) await run(c, a);
    } catch {
      /* the watchdog's immediate stop follows */
    }
    try {
      if (watchdog.pid !== undefined) process.kill(watchdog.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    await waitFor(() => !existsSync(dir), 20_000).catch(() => rmSync(dir, { recursive: true, force: true }));
    if (pid !== null) await waitFor(() => !processAlive(pid), 20_000);
  };
  try {
    const [c, a] = wrap(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
    await run(c, a);
    const durable = opts.durable === true;
    let lastErr: unknown = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const settings = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        `-c unix_socket_directories=${dir}`,
        `-c fsync=${durable ? "on" : "off"}`,
        `-c synchronous_commit=${durable ? "on" : "off"}`,
        `-c full_page_writes=${durable ? "on" : "off"}`,
        "-c max_connections=100",
      ].join(" ");
      const [sc, sa] = wrap(pgCtl, ["start", "-D", data, "-w", "-t", "30", "-l", join(dir, "server.log"), "-o", settings]);
      try {
        await run(sc, sa);
        const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
        let n = 0;
        return {
          url,
          port,
          dir,
          stop,
          async createDatabase(name?: string): Promise<string> {
            const db = name ?? `t${process.pid}_${++n}`;
            const { default: pg } = await import("pg");
            const client = new pg.Client({ connectionString: url });
            await client.connect();
            try {
              await client.query(`CREATE DATABASE "${db}"`);
            } finally {
              await client.end();
            }
            return `postgres://postgres@127.0.0.1:${port}/${db}`;
          },
        };
      } catch (err) {
        lastErr = err; // most likely the port was taken between freePort() and the start: try another
      }
    }
    throw lastErr;
  } catch (err) {
    await stop();
    throw err;
  }
}

function postmasterPid(data: string): number | null {
  try {
    return Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]) || null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a container's pid 1 may be slow to reap). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
