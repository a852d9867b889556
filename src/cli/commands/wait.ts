/**
 * `aipm wait PROJECT ORDER [--timeout S]`: block until no task of the order
 * is QUEUED (unblocked), IN_PROGRESS or REVIEW, supervising meanwhile (it
 * records ends, recovers dead workers and launches what becomes launchable,
 * under the launch options given here or stored by the last launch), then
 * print one summary. Exit 0 when every task is DONE, 1 otherwise.
 */
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { getOrder } from "../../store/read-project.js";
import { activateOrder } from "../../runtime/launch-order.js";
import { orderSettled, orderSummary } from "../../runtime/wait-order.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { launchOptionsFrom, withLaunchFlags, type LaunchFlagArgs } from "../launch-flags.js";
import { renderWaitSummary } from "../render/wait-summary.js";
import { waitWithDisplay } from "../wait-with-display.js";

function anyLimitGiven(a: LaunchFlagArgs): boolean {
  return [a.maxWorkers, a.maxCpu, a.maxMemory, a.resourceMonitoring, a.autoScaling, a.model, a.review].some((v) => v !== undefined);
}

export function registerWait(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "wait <project> <order>",
    "block until the order is finished (launching and recovering meanwhile); print one summary",
    (b) =>
      withLaunchFlags(
        b
          .positional("project", { type: "string", demandOption: true })
          .positional("order", { type: "string", demandOption: true })
          .option("timeout", { type: "number", describe: "give up after this many seconds (exit 1, timed_out: true)" }),
      ),
    async (args) => {
      const runtime = resolveRuntimeOptions(io.env);
      const options = launchOptionsFrom(args, io.env);
      if (args.timeout !== undefined && !(args.timeout >= 0)) throw usageError(`--timeout: expected seconds from 0 up, got ${args.timeout}`);
      const summary = await withStore(io, args, async (store) => {
        const order = getOrder(store, args.project, args.order);
        // Limits given here apply from now on; otherwise the order keeps those of its last launch.
        const open = !orderSettled(store, args.project, args.order);
        if (store.readOnly) {
          // A database this process cannot write: a finished order's summary can still be read.
          if (open) throw usageError(`database ${store.path} is read-only here: cannot wait for ${args.project}/${args.order}, which is not finished`);
          return orderSummary(store, args.project, args.order, store.now(), false);
        }
        if (open && (anyLimitGiven(args) || !order.active)) activateOrder(store, args.project, args.order, options);
        const s = await waitWithDisplay(
          store,
          io,
          {
            project: args.project,
            order: args.order,
            timeoutS: args.timeout,
            runtime,
            env: io.env,
            monitor: options.monitoring ? createResourceMonitor({ now: store.now }) : undefined,
          },
          // Quiet off a terminal: a PM agent reads one summary, not a line per task.
          io.isTTY && !args.json,
        );
        return s;
      }, { readOnly: true });
      emit(io, args, summary, () => renderWaitSummary(summary));
      io.exitCode = summary.done ? 0 : 1;
    },
  );
}
