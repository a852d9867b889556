/** `aipm parallel-launch PROJECT ORDER` (alias `parallel_launch`). */
import type { Argv } from "yargs";
import { planLaunch, summarize, type LaunchReport } from "../../launch/plan-launch.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { getStatus } from "../../report/status.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { launchOptionsFrom, withLaunchFlags } from "../launch-flags.js";
import { renderLaunchReport } from "../render/launch-report.js";

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
          .option("wait", { type: "boolean", describe: "stay until the order is finished" }),
      ),
    async (args) => {
      const options = launchOptionsFrom(args, io.env);
      if (!args.dryRun) {
        throw usageError("parallel-launch without --dry-run needs the runtime, which is not built yet: use --dry-run");
      }
      await withStore(io, args, async (store) => {
        const monitor = options.monitoring ? createResourceMonitor({ now: store.now }) : undefined;
        const { report } = await planLaunch(store, {
          project: args.project,
          order: args.order,
          options,
          monitor,
          dryRun: true,
        });
        print(io, args, report, args.summary ? getStatus(store, { project: args.project, order: args.order }).counts : null);
      });
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
