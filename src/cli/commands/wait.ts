/**
 * `aipm wait PROJECT ORDER [--timeout S]` and `aipm wait --all [PROJECT]`:
 * block until the order (or every active order) is finished — no task QUEUED
 * (unblocked), IN_PROGRESS or REVIEW — supervising meanwhile (it records ends,
 * recovers dead workers and launches what becomes launchable, under the
 * launch options given here or stored by the last launch), then print one
 * compact summary. Off a terminal it prints nothing while it waits, or one
 * line per finished task on stderr with `--events`. Exit 0 when every task is
 * DONE, 1 otherwise.
 */
import { redactDbUrl } from "../../store/db-location.js";
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { getOrder } from "../../store/read-project.js";
import { orderSettled, orderSummary, type FinishedTask } from "../../runtime/wait-order.js";
import { waitForAll } from "../../runtime/wait-all.js";
import { usageError } from "../../errors.js";
import type { CliIO, GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { launchOptionsFrom, withLaunchFlags, type LaunchFlagArgs } from "../launch-flags.js";
import { renderWaitAll, renderWaitSummary } from "../render/wait-summary.js";
import { waitWithDisplay } from "../wait-with-display.js";

function anyLimitGiven(a: LaunchFlagArgs): boolean {
  return [a.maxWorkers, a.maxCpu, a.maxMemory, a.resourceMonitoring, a.autoScaling, a.model, a.review].some((v) => v !== undefined);
}

/** One line per finished task (`--events`). */
export function eventLine(e: FinishedTask): string {
  return `${e.order}/${e.task} ${e.status}${e.failure_kind ? ` ${e.failure_kind}` : ""} (attempt ${e.attempt})\n`;
}

export function registerWait(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "wait [project] [order]",
    "block until the order (--all: every active order) is finished, launching and recovering meanwhile; print one summary",
    (b) =>
      withLaunchFlags(
        b
          .positional("project", { type: "string", describe: "with --all: only this project's orders" })
          .positional("order", { type: "string" })
          .option("all", { type: "boolean", describe: "wait for every active order (of PROJECT, or of every project)" })
          .option("events", { type: "boolean", describe: "print one line per finished task on stderr while waiting" })
          .option("timeout", { type: "number", describe: "give up after this many seconds (exit 1, timed_out: true)" })
          .example("aipm wait myproj O1", "until O1 is finished; exit 0 when every task is DONE")
          .example("aipm --json wait --all --timeout 600", "every active order, at most 10 minutes, one JSON summary"),
      ),
    async (args) => {
      if (args.all && args.order !== undefined) throw usageError("wait --all takes at most a project, not an order");
      if (!args.all && (args.project === undefined || args.order === undefined)) {
        throw usageError("wait: name PROJECT ORDER, or --all [PROJECT]");
      }
      if (args.timeout !== undefined && !(args.timeout >= 0)) throw usageError(`--timeout: expected seconds from 0 up, got ${args.timeout}`);
      const runtime = resolveRuntimeOptions(io.env);
      const options = launchOptionsFrom(args, io.env);
      const onFinished = args.events ? (e: FinishedTask) => io.stderr(eventLine(e)) : undefined;
      const summary = await withStore(io, args, async (store) => {
        const monitor = options.monitoring ? createResourceMonitor({ now: store.now }) : undefined;
        if (args.all) {
          return waitForAll(store, { project: args.project, timeoutS: args.timeout, runtime, env: io.env, monitor, onFinished });
        }
        const [project, orderId] = [args.project!, args.order!];
        const order = getOrder(store, project, orderId);
        // Limits given here apply from now on; otherwise the order keeps those of its last launch.
        const open = !orderSettled(store, project, orderId);
        if (store.readOnly) {
          // A database this process cannot write: a finished order's summary can still be read.
          if (open) throw usageError(`database ${redactDbUrl(store.path)} is read-only here: cannot wait for ${project}/${orderId}, which is not finished`);
          return orderSummary(store, project, orderId, store.now(), false);
        }
        if (open && (anyLimitGiven(args) || !order.active)) {
          // Loaded only here: a finished order's summary (a PM polling) does not pay for the launcher.
          const { activateOrder, withScale } = await import("../../runtime/launch-order.js");
          activateOrder(store, project, orderId, withScale(store, project, orderId, options, args.maxWorkers !== undefined));
        }
        return waitWithDisplay(
          store,
          io,
          { project, order: orderId, timeoutS: args.timeout, runtime, env: io.env, monitor, onFinished },
          // Quiet off a terminal: a PM agent reads one summary, not a line per task.
          io.isTTY && !args.json && !args.events,
        );
      }, { readOnly: true });
      // One compact line of JSON: a PM agent pays for every character it reads.
      if (args.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else io.stdout("orders" in summary ? renderWaitAll(summary) : renderWaitSummary(summary));
      io.exitCode = summary.done ? 0 : 1;
    },
  );
}
