/** `aipm enqueue NAME -- CMD [ARGS...]`: add a long command to the FIFO queue and start it when a slot is free. */
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { QUEUE_ORDER, QUEUE_PROJECT } from "../../runtime/queue-names.js";
import { launchOrder } from "../../runtime/launch-order.js";
import { ensureSupervisor } from "../../runtime/ensure-supervisor.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { usageError } from "../../errors.js";
import { numberSetting } from "../../config/settings.js";
import { idProblem } from "../../plan/spec.js";
import { countRunningInOrder } from "../../store/tasks-read.js";
import { commandProblems } from "../../plan/argv-limits.js";
import { launchOptionsFrom, withLaunchFlags } from "../launch-flags.js";

export function registerEnqueue(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "enqueue <name>",
    "queue a long shell command (aipm enqueue tests -- npm test); runs in FIFO order",
    (b) =>
      withLaunchFlags(
        b
          .positional("name", { type: "string", demandOption: true })
          .option("timeout", { type: "number", describe: "seconds before the command is killed" })
          .option("max-attempts", { type: "number", describe: "runs before it counts as FAILED (default 1)" })
          .example("aipm enqueue tests -- npm test", "run the tests when a queue slot is free")
          .example("aipm enqueue train --timeout 36000 -- python train.py --epochs 90", "a long job, killed after 10 hours")
          .example("aipm enqueue build --max-workers 2 -- make -j4", "let two queued commands run at once"),
        { maxWorkers: "most queued commands running at once (default 1, env AIPM_QUEUE_WORKERS)" },
      ),
    async (args) => {
      // Started now, its CPU window runs while the database is opened (only sampled when a slot is free).
      const early = createResourceMonitor();
      const argv = ((args as { "--"?: unknown[] })["--"] ?? []).map(String);
      // Bad input is refused before the database is opened (or created).
      const bad = idProblem(args.name, "queue");
      if (bad !== null) throw usageError(`NAME: ${bad}`);
      if (argv.length === 0) throw usageError("enqueue: give the command after --, e.g. aipm enqueue tests -- npm test");
      const problems = commandProblems(argv, "command");
      if (problems.length > 0) throw usageError(problems[0]!, problems.slice(1));
      const env = { ...io.env };
      if (args.maxWorkers === undefined) args.maxWorkers = numberSetting(io.env, "AIPM_QUEUE_WORKERS");
      const options = launchOptionsFrom(args, env);
      const rt = resolveRuntimeOptions(io.env);
      const { enqueue } = await import("../../runtime/enqueue.js");
      const r = await withStore(io, args, async (store) => {
        const added = enqueue(store, { name: args.name, argv, cwd: io.cwd, timeoutS: args.timeout, maxAttempts: args.maxAttempts });
        // A full queue launches nothing now: no machine sample (its CPU window, nvidia-smi) to wait for.
        const full = countRunningInOrder(store, QUEUE_PROJECT, QUEUE_ORDER) >= options.maxWorkers;
        const { report, launched } = await launchOrder(store, {
          project: QUEUE_PROJECT,
          order: QUEUE_ORDER,
          options,
          backoffS: rt.backoffS,
          env: io.env,
          monitor: options.monitoring && !full ? early : undefined,
          dryRun: false,
        });
        for (const l of launched) l.worker.child?.unref();
        ensureSupervisor(store, QUEUE_PROJECT, io.env);
        const mine = report.launched.find((l) => l.task === added.task);
        return { project: QUEUE_PROJECT, order: QUEUE_ORDER, task: added.task, position: added.position, started: Boolean(mine), pid: mine?.pid ?? null };
      }, { create: true });
      emit(io, args, r, () => `${r.task}: ${r.started ? `started (pid ${r.pid})` : `queued at position ${r.position}`}\n`);
    },
  );
}
