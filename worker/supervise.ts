/**
 * The detached supervisor process: `node dist/worker/supervise.js --db DB
 * --project P`. Takes the project's lease (or exits at once when another
 * process holds it), supervises until the project is idle, and exits.
 */
import { openStore } from "../src/store/open.js";
import { acquireLease } from "../src/runtime/lease.js";
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

const db = arg("--db");
const project = arg("--project");
const store = await openStore({ db });
const stamp = () => new Date().toISOString();
if (!acquireLease(store, project)) {
  store.close();
  process.exit(0);
}
process.stdout.write(`${stamp()} supervisor ${process.pid} for ${project}\n`);
const supervisor = new Supervisor(store, project, {
  runtime: resolveRuntimeOptions(process.env),
  env: process.env,
  monitor: createResourceMonitor(),
});
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(sig, () => supervisor.stop());
}
await supervisor.run();
// Notifications of the last ends (the order's end among them) before exiting.
await flushNotifications(store, process.env, 15_000).catch(() => {});
process.stdout.write(`${stamp()} supervisor ${process.pid} done\n`);
store.close();
process.exit(0);
