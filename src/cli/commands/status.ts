/** `aipm status [PROJECT [ORDER]]` and `aipm locks [PROJECT]`. */
import type { Argv } from "yargs";
import { getStatus, listLocks } from "../../report/status.js";
import { createResourceMonitor, toResourcesJson } from "../../resources/monitor.js";
import { resolveLaunchOptions } from "../../config/launch-options.js";
import { measure, scaleFor, type ResourcesJson } from "../../launch/plan-launch.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { renderLocks, renderStatus } from "../render/status.js";

/** Starts measuring the machine now (its CPU window runs while the database is read); the figures when awaited. */
function resourcesNow(io: CliIO, monitoringFlag: boolean | undefined): () => Promise<ResourcesJson> {
  const options = resolveLaunchOptions({ monitoring: monitoringFlag }, io.env);
  const monitor = options.monitoring ? createResourceMonitor() : undefined;
  return async () => {
    const sample = await measure(options, monitor);
    return toResourcesJson(sample, scaleFor(options, sample));
  };
}

export function registerStatus(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y
    .command(
      "status [project] [order]",
      "tasks by status, running workers, blocked tasks, locks, resources",
      (b) =>
        b
          .positional("project", { type: "string" })
          .positional("order", { type: "string" })
          .option("resource-monitoring", { type: "boolean", describe: "measure CPU/memory (default on)" }),
      async (args) => {
        const measured = resourcesNow(io, args.resourceMonitoring);
        const report = await withStore(io, args, (store) => getStatus(store, { project: args.project, order: args.order }), { readOnly: true });
        const resources = await measured();
        emit(io, args, { ...report, resources }, () => renderStatus(report, resources));
      },
    )
    .command(
      "locks [project]",
      "the file locks held now, with their tasks",
      (b) => b.positional("project", { type: "string" }),
      async (args) => {
        const locks = await withStore(io, args, (store) => listLocks(store, args.project), { readOnly: true });
        emit(io, args, { locks }, () => renderLocks(locks));
      },
    );
}
