/** `aipm status [PROJECT [ORDER]] [--all | --watch]` and `aipm locks [PROJECT]`. */
import { numberSetting } from "../../config/settings.js";
import { thisHost } from "../../config/host.js";
import type { Argv } from "yargs";
import { getStatus, listLocks, type StatusReport } from "../../report/status.js";
import { createResourceMonitor, toResourcesJson, type ResourceMonitor, type ResourceSample } from "../../resources/monitor.js";
import { recentRecordedSample } from "../../resources/machine-point.js";
import { resolveLaunchOptions, type LaunchOptions } from "../../config/launch-options.js";
import { measure, scaleFor, type ResourcesJson } from "../../launch/plan-launch.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { hostsLine, renderLocks, renderStatus, resourcesLine } from "../render/status.js";
import { renderStatusShort } from "../render/status-short.js";
import { colorWanted, makeStyle } from "../render/style.js";
import { processTerminal, watch } from "../watch-screen.js";

/** Seconds between redraws of `status --watch` by default. */
const WATCH_INTERVAL_S = 2;

async function resourcesOf(options: LaunchOptions, monitor: ResourceMonitor | undefined, recorded: ResourceSample | null = null): Promise<ResourcesJson> {
  const sample = options.monitoring && recorded ? recorded : await measure(options, monitor);
  return toResourcesJson(sample, scaleFor(options, sample));
}

export function registerStatus(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y
    .command(
      "status [project] [order]",
      "per order: counts, running workers, what needs attention, what waits and why (--all: every task; --watch: redraw)",
      (b) =>
        b
          .positional("project", { type: "string" })
          .positional("order", { type: "string" })
          .option("all", { type: "boolean", describe: "list every task (default: a summary that fits a screen)" })
          .option("watch", { type: "boolean", describe: "redraw the summary in place until Ctrl-C (needs a terminal)" })
          .option("interval", { type: "number", describe: `seconds between redraws with --watch (default ${WATCH_INTERVAL_S})` })
          .option("resource-monitoring", { type: "boolean", describe: "measure CPU/memory (default on)" })
          .example("aipm status", "every project, at a glance")
          .example("aipm status myproj O1 --all", "every task of order O1")
          .example("aipm status --watch --interval 5", "a live view, redrawn every 5 s")
          .example("aipm --json status myproj", "the complete status as JSON"),
      async (args) => {
        if (args.watch && args.json) throw usageError("status: --watch and --json do not go together (--json prints one document)");
        if (args.watch && args.all) throw usageError("status: --watch shows the summary that fits the terminal; --all lists every task once");
        if (args.interval !== undefined && !(args.interval >= 0.2 && args.interval <= 3600)) {
          throw usageError(`--interval: expected seconds from 0.2 to 3600, got ${args.interval}`);
        }
        if (args.watch && !io.stdoutTTY) throw usageError("status --watch needs a terminal on stdout; piped, run aipm status (once) instead");
        const options = resolveLaunchOptions({ monitoring: args.resourceMonitoring }, io.env);
        // Started now: its CPU window runs while the database is read.
        const monitor = options.monitoring ? createResourceMonitor() : undefined;
        const color = colorWanted(io.env, Boolean(io.stdoutTTY));
        const scope = { project: args.project, order: args.order, host: thisHost(io.env), leaseS: numberSetting(io.env, "AIPM_HOST_LEASE_S") };
        if (args.watch) {
          const term = processTerminal();
          await withStore(
            io,
            args,
            (store) =>
              watch(term, (args.interval ?? WATCH_INTERVAL_S) * 1000, async (rows, cols) => {
                const report = getStatus(store, scope);
                const res = resourcesLine(await resourcesOf(options, monitor));
                const style = makeStyle({ color, relative: true, now: Date.now() });
                const clock = style.dim(`every ${args.interval ?? WATCH_INTERVAL_S}s, Ctrl-C to quit · ${new Date().toLocaleTimeString()}`);
                const hl = hostsLine(report.hosts, style);
                return renderStatusShort(report, { style, maxLines: rows - 1, cols, preamble: [...(res ? [res] : []), ...(hl ? [hl] : []), clock] });
              }),
            { readOnly: true },
          );
          return;
        }
        // While a supervisor records the machine (every 5 s), its last point is the machine now: no window of our own.
        const [report, recorded] = await withStore(
          io,
          args,
          (store): [StatusReport, ResourceSample | null] => [getStatus(store, scope), options.monitoring ? recentRecordedSample(store, Date.now()) : null],
          { readOnly: true },
        );
        const resources = await resourcesOf(options, monitor, recorded);
        emit(io, args, { ...report, resources }, () => {
          const style = makeStyle({ color, relative: Boolean(io.stdoutTTY), now: Date.now() });
          if (args.all) return renderStatus(report, resources, style);
          const res = resourcesLine(resources);
          const hl = hostsLine(report.hosts, style);
          return renderStatusShort(report, { style, preamble: [...(res ? [res] : []), ...(hl ? [hl] : [])], cols: io.stdoutTTY ? process.stdout.columns || undefined : undefined });
        });
      },
    )
    .command(
      "locks [project]",
      "the file locks held now, with their tasks",
      (b) =>
        b
          .positional("project", { type: "string" })
          .example("aipm locks myproj", "which task holds which file")
          .example("aipm --json locks", "every lock as JSON"),
      async (args) => {
        const locks = await withStore(io, args, (store) => listLocks(store, args.project), { readOnly: true });
        emit(io, args, { locks }, () => renderLocks(locks));
      },
    );
}
