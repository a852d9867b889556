/**
 * Opens the store a command names (`--db`, `$AIPM_DB`, `./.aipm/aipm.db`),
 * records what became of abandoned attempts first (the contract: any aipm
 * command recovers crashed workers), and closes the store after. Commands
 * that write plans ask for the ORM (`orm: true`); the others start without it.
 */
import { resolve } from "node:path";
import { openStore, type Store } from "../store/open.js";
import { resolveRuntimeOptions } from "../config/runtime-options.js";
import { recover } from "../runtime/in-flight.js";
import { ensureSupervisor } from "../runtime/ensure-supervisor.js";
import type { CliIO, GlobalArgs } from "./io.js";
import { notifySettings } from "../notify/notify-config.js";
import { resolveAlarmAfterS } from "../notify/resource-alarm.js";
import { scopeMode } from "../scope/git-scope.js";
import { parseTemplate } from "../runtime/task-command.js";
import { flushNotifications } from "../notify/dispatcher.js";

export async function withStore<T>(
  io: CliIO,
  args: GlobalArgs,
  fn: (store: Store) => Promise<T> | T,
  opts: { orm?: boolean } = {},
): Promise<T> {
  const db = args.db !== undefined ? resolve(io.cwd, args.db) : undefined;
  const envDb = io.env.AIPM_DB ? resolve(io.cwd, io.env.AIPM_DB) : undefined;
  // A bad notifier setting is bad input: refused before anything is written.
  notifySettings(io.env);
  resolveAlarmAfterS(io.env);
  scopeMode(io.env);
  parseTemplate(io.env.AIPM_AGENT_CMD, "AIPM_AGENT_CMD");
  parseTemplate(io.env.AIPM_REVIEW_CMD, "AIPM_REVIEW_CMD");
  resolveRuntimeOptions(io.env);
  const store = await openStore({ db: db ?? envDb ?? resolve(io.cwd, ".aipm", "aipm.db"), env: io.env, orm: opts.orm ?? false });
  try {
    const report = recover(store, resolveRuntimeOptions(io.env));
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
