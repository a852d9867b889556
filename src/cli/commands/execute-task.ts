/** `aipm execute-task PROJECT TASK [--parallel]` (alias `execute_task`): run one task in the foreground. */
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { executeTask } from "../../runtime/execute-task.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { usd } from "../render/status.js";
import { launchOptionsFrom, withLaunchFlags } from "../launch-flags.js";
import { ReadableAgentOutput } from "../../agent/readable-output.js";

export function registerExecuteTask(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    ["execute-task <project> <task>", "execute_task"],
    "run one task in the foreground as its worker (exit 0 when it ends DONE)",
    (b) =>
      withLaunchFlags(
        b
          .positional("project", { type: "string", demandOption: true })
          .positional("task", { type: "string", demandOption: true })
          .option("parallel", { type: "boolean", describe: "also launch every other launchable task of its order" })
          .example("aipm execute-task myproj T1", "run task T1 here, in the foreground")
          .example("aipm execute-task myproj T1 --parallel", "and launch the rest of its order beside it"),
      ),
    async (args) => {
      const options = launchOptionsFrom(args, io.env);
      const readable = new ReadableAgentOutput();
      const show = (text: string) => (args.json ? io.stderr(text) : io.stdout(text));
      const r = await withStore(io, args, (store) =>
        executeTask(store, {
          project: args.project,
          task: args.task,
          parallel: Boolean(args.parallel),
          options,
          runtime: resolveRuntimeOptions(io.env),
          env: io.env,
          monitor: options.monitoring ? createResourceMonitor({ now: store.now }) : undefined,
          // The task's own output: stdout for people, stderr when stdout is reserved for JSON.
          // An agent's stream-json is shown as one line per event.
          onOutput: (text) => show(readable.push(text)),
        }),
      );
      show(readable.flush());
      const cost = r.cost_usd !== null ? `, ${usd(r.cost_usd)} in ${r.num_turns ?? 0} turns` : "";
      emit(io, args, r, () => `${r.project}/${r.task}: ${r.status} after ${r.attempts} attempt(s)${cost}${r.error ? ` — ${r.error}` : ""}\n`);
      io.exitCode = r.status === "DONE" ? 0 : 1;
    },
  );
}
