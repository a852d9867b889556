/**
 * Opens the store a command names (`--db`, `$AIPM_DB`, the nearest
 * `.aipm/aipm.db` upward, else `./.aipm/aipm.db`), records what became of
 * abandoned attempts first (the contract: any aipm command recovers crashed
 * workers), and closes the store after. No command needs the ORM (`orm: true`
 * loads drizzle's query builder): plans are written with prepared statements.
 *
 * Only commands that add work create a database (`create`); the others see a
 * missing one as empty and create nothing. Commands that only read
 * (`readOnly`) can read a database they cannot write; then nothing is
 * recovered or handed to a supervisor.
 */
import { syncWanted } from "../git-sync/root-need.js";
import { thisHost } from "../config/host.js";
import { openStore, type Store } from "../store/open.js";
import { resolveRuntimeOptions } from "../config/runtime-options.js";
import { hostOfEnv, recover } from "../runtime/in-flight.js";
import { ensureSupervisor } from "../runtime/ensure-supervisor.js";
import type { CliIO, GlobalArgs } from "./io.js";
import { flushNotifications } from "../notify/dispatcher.js";
import { checkSettings } from "../config/settings.js";

export async function withStore<T>(
  io: CliIO,
  args: GlobalArgs,
  fn: (store: Store) => Promise<T> | T,
  opts: { orm?: boolean; create?: boolean; readOnly?: boolean } = {},
): Promise<T> {
  // Every AIPM_* setting is bad input when wrong: refused before anything is written
  // (runCli checks them at start too; library callers of withStore come through here).
  checkSettings(io.env);
  const store = await openStore({
    db: args.db,
    env: io.env,
    cwd: io.cwd,
    orm: opts.orm ?? false,
    create: opts.create ?? false,
    readOnly: opts.readOnly ?? false,
  });
  try {
    if (store.readOnly) return await fn(store);
    const report = recover(store, { ...resolveRuntimeOptions(io.env), ...hostOfEnv(io.env), gitSync: syncWanted(thisHost(io.env), store.path) });
    const unwatched = [...report.orphans, ...report.reviews_pending].map((o) => o.project);
    for (const p of new Set(unwatched)) ensureSupervisor(store, p, io.env);
    const result = await fn(store);
    // What this command (or the supervisor it ran) recorded may be worth a message.
    await flushNotifications(store, io.env).catch(() => {});
    return result;
  } finally {
    store.close();
  }
}
