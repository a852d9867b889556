/** Opens the store a command names (`--db`, `$AIPM_DB`, `./.aipm/aipm.db`) and closes it after. */
import { resolve } from "node:path";
import { openStore, type Store } from "../store/open.js";
import type { CliIO, GlobalArgs } from "./io.js";

export async function withStore<T>(io: CliIO, args: GlobalArgs, fn: (store: Store) => Promise<T> | T): Promise<T> {
  const db = args.db !== undefined ? resolve(io.cwd, args.db) : undefined;
  const envDb = io.env.AIPM_DB ? resolve(io.cwd, io.env.AIPM_DB) : undefined;
  const store = await openStore({ db: db ?? envDb ?? resolve(io.cwd, ".aipm", "aipm.db"), env: io.env });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
