/**
 * The detached supervisor process: `node dist/worker/supervise.js --db DB
 * --project P`. Takes the project's lease (or exits at once when another
 * process holds it), supervises until the project is idle, and exits — 1,
 * with one line in its log, when the database breaks under it or is
 * deleted or replaced.
 */
import { openStore, type Store } from "../src/store/open.js";
import { describeDbError, isBusy, isDbError } from "../src/store/db-errors.js";
import { acquireLease } from "../src/runtime/lease.js";
import { thisHost } from "../src/config/host.js";
import { Supervisor } from "../src/runtime/supervisor.js";
import { resolveRuntimeOptions } from "../src/config/runtime-options.js";
import { createResourceMonitor } from "../src/resources/monitor.js";
import { flushNotifications } from "../src/notify/dispatcher.js";

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    process.stderr.write(`supervise: missing ${name}\n`);
    process.exit(2);
  }
  return v;
}

// `env:AIPM_DB`: the database is in the environment (a PostgreSQL URL, which may hold a password).
const dbArg = arg("--db");
const db = dbArg === "env:AIPM_DB" ? (process.env.AIPM_DB ?? "") : dbArg;
const project = arg("--project");
const stamp = () => new Date().toISOString();

/** Gives up with one line (the next aipm command starts another supervisor). */
function giveUp(err: unknown): never {
  const line = isDbError(err) ? describeDbError(err, db) : (err as Error).message;
  process.stdout.write(`${stamp()} supervisor ${process.pid} stopped: ${line}\n`);
  if (process.env.AIPM_DEBUG === "1") process.stdout.write(`${(err as Error).stack}\n`);
  process.exit(1);
}

let store: Store;
let leader: boolean;
try {
  store = await openStore({ db });
  // A write lock held past the busy timeout: try for the lease again, a few times.
  for (let tries = 1; ; tries++) {
    try {
      leader = acquireLease(store, project, thisHost(process.env).name);
      break;
    } catch (err) {
      if (!isBusy(err) || tries >= 6) throw err;
    }
  }
} catch (err) {
  giveUp(err);
}
if (!leader) {
  store.close();
  process.exit(0);
}
process.stdout.write(`${stamp()} supervisor ${process.pid} for ${project}\n`);
const supervisor = new Supervisor(store, project, {
  runtime: resolveRuntimeOptions(process.env),
  env: process.env,
  monitor: createResourceMonitor(),
  onWarning: (line) => process.stdout.write(`${stamp()} supervisor ${process.pid}: ${line}\n`),
});
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(sig, () => supervisor.stop());
}
try {
  await supervisor.run();
} catch (err) {
  // One line (the database broke, was replaced...); the workers go on, the next aipm command takes over.
  try {
    store.close();
  } catch {
    /* closing a broken database */
  }
  giveUp(err);
}
// Notifications of the last ends (the order's end among them) before exiting.
await flushNotifications(store, process.env, 15_000).catch(() => {});
process.stdout.write(`${stamp()} supervisor ${process.pid} done\n`);
store.close();
process.exit(0);
