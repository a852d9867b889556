/**
 * `aipm parallel-launch PROJECT ORDER` (alias `parallel_launch`): launch every
 * launchable task as a detached worker and hand the order to a supervisor
 * (exit at once), or with `--wait` stay and supervise until the order is
 * finished, with a live display on a terminal.
 */
import type { Argv } from "yargs";
import { summarize, type LaunchReport } from "../../launch/plan-launch.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { getStatus } from "../../report/status.js";
import { launchOrder, withScale } from "../../runtime/launch-order.js";
import { ensureSupervisor } from "../../runtime/ensure-supervisor.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { launchOptionsFrom, withLaunchFlags } from "../launch-flags.js";
import { renderLaunchReport } from "../render/launch-report.js";
import { renderWaitSummary } from "../render/wait-summary.js";
import { waitWithDisplay } from "../wait-with-display.js";

function renderSummary(s: ReturnType<typeof summarize>["summary"]): string {
  const statuses = Object.entries(s.statuses).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  const skipped = Object.entries(s.skipped).map(([k, n]) => `${k} ${n}`).join(", ");
  return (
    `${s.project}/${s.order}${s.dry_run ? " (dry run)" : ""}: ${statuses || "no tasks"}\n` +
    `launchable ${s.launchable}, launched ${s.launched}, failed ${s.failed}; skipped: ${skipped || "none"}\n`
  );
}

export function registerParallelLaunch(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    ["parallel-launch <project> <order>", "parallel_launch"],
    "launch every launchable task of an order as a detached worker",
    (b) =>
      withLaunchFlags(
        b
          .positional("project", { type: "string", demandOption: true })
          .positional("order", { type: "string", demandOption: true })
          .option("dry-run", { type: "boolean", describe: "show what would launch and why; change nothing" })
          .option("summary", { type: "boolean", describe: "print counts per status and per skip reason" })
          .option("wait", { type: "boolean", describe: "stay until the order is finished (exit 0 if every task is DONE)" })
          .option("timeout", { type: "number", describe: "with --wait: give up waiting after this many seconds" })
          .example("aipm parallel-launch myproj O1", "start what can start; a supervisor launches the rest")
          .example("aipm parallel-launch myproj O1 --dry-run", "what would launch, and why the rest waits")
          .example("aipm parallel-launch myproj O1 --max-workers 8 --wait", "up to 8 at once, and stay until it is done"),
      ),
    async (args) => {
      const flagged = launchOptionsFrom(args, io.env);
      const runtime = resolveRuntimeOptions(io.env);
      const code = await withStore(io, args, async (store) => {
        const options = withScale(store, args.project, args.order, flagged, args.maxWorkers !== undefined);
        const monitor = options.monitoring ? createResourceMonitor({ now: store.now }) : undefined;
        const startedAt = store.now();
        const { report, launched } = await launchOrder(store, {
          project: args.project,
          order: args.order,
          options,
          backoffS: runtime.backoffS,
          env: io.env,
          monitor,
          dryRun: Boolean(args.dryRun),
        });
        if (args.dryRun || !args.wait || report.error) {
          for (const l of launched) l.worker.child?.unref();
          if (report.error) {
            // What was started is reported all the same; the next aipm command records it.
            print(io, args, report, null);
            io.stderr(`aipm: ${report.error}\n`);
            return 1;
          }
          if (!args.dryRun) ensureSupervisor(store, args.project, io.env);
          print(io, args, report, args.summary ? getStatus(store, { project: args.project, order: args.order }).counts : null);
          return report.failed.length > 0 ? 1 : 0;
        }
        io.stderr(renderLaunchReport(report));
        const summary = await waitWithDisplay(store, io, {
          project: args.project,
          order: args.order,
          timeoutS: args.timeout,
          runtime,
          env: io.env,
          monitor,
          launched,
          startedAt,
        });
        if (args.json) emit(io, args, { ...summary, launch: report }, () => "");
        else io.stdout(renderWaitSummary(summary));
        return summary.done ? 0 : 1;
      });
      io.exitCode = code;
    },
  );
}

function print(io: CliIO, args: GlobalArgs, report: LaunchReport, counts: Record<string, number> | null): void {
  if (counts) {
    const s = summarize(report, counts);
    emit(io, args, s, () => renderSummary(s.summary));
  } else {
    emit(io, args, report, () => renderLaunchReport(report));
  }
}
