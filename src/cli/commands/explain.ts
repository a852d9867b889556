/** `aipm explain TASK [--project P]`: why a task is not running, down to the root cause. */
import { thisHost } from "../../config/host.js";
import type { Argv } from "yargs";
import { explainTask, renderExplanation } from "../../report/explain.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";

export function registerExplain(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "explain <task>",
    "the task's status and, when it is not running, the chain of reasons down to the root cause",
    (b) =>
      b
        .positional("task", { type: "string", demandOption: true })
        .option("project", { type: "string", describe: "the task's project (needed when the id is in several)" })
        .example("aipm explain T7", "why T7 is not running (down to the root cause)")
        .example("aipm --json explain T7 --project myproj", "the same as JSON"),
    async (args) => {
      const e = await withStore(io, args, (store) => explainTask(store, { task: args.task, project: args.project, host: thisHost(io.env) }));
      emit(io, args, e, () => renderExplanation(e));
    },
  );
}
