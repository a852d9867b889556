/**
 * Whether git sync asks this host for a root of its own (docs/hosts.md,
 * "Edits across hosts"). With `AIPM_GIT_SYNC=on` — or `auto` on a shared
 * (PostgreSQL) database — every host works in its own clone, recorded by
 * `aipm import` run there; a host without one for a project launches none of
 * its tasks (skip reason `host`, `no_root`), since another host's root is a
 * path on another machine. Otherwise (one SQLite file, sync unset) a host
 * without a root of its own uses the project's root, as always.
 */
import type { ThisHost } from "../config/host.js";
import { isPostgresUrl } from "../store/db-location.js";
import type { Store } from "../store/open.js";
import { hostRoot } from "../store/project-roots.js";
import { QUEUE_PROJECT } from "../runtime/queue-names.js";

/** Whether sync may be on for this host and database (the root's remote decides `auto` further). */
export function syncWanted(host: Pick<ThisHost, "gitSync">, dbPath: string): boolean {
  const mode = host.gitSync ?? "auto";
  return mode === "on" || (mode === "auto" && isPostgresUrl(dbPath));
}

/** This host as the detector takes it: `noRoot` when sync needs a root of its own for the project and there is none. */
export function hostForProject<H extends ThisHost>(store: Store, host: H, project: string): H & { noRoot: boolean } {
  // The enqueue queue's commands run where they were enqueued: they need no root.
  const noRoot = syncWanted(host, store.path) && project !== QUEUE_PROJECT && hostRoot(store, project, host.name) === undefined;
  return { ...host, noRoot };
}
