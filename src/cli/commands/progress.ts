/**
 * `aipm progress DONE/TOTAL [LABEL]`: run by a worker to report its progress
 * (its task from AIPM_PROJECT / AIPM_TASK / AIPM_ATTEMPT, its database from
 * AIPM_DB, all set by aipm). Light on purpose: it opens the database, writes
 * one row and exits — no recovery, no notifications.
 */
import type { Argv } from "yargs";
import { openStore } from "../../store/open.js";
import { parseProgress, reportProgress } from "../../runtime/progress.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";

export function registerProgress(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "progress <fraction> [label..]",
    "run by a worker: set its task's progress (3/10) and current item",
    (b) =>
      b
        .positional("fraction", { type: "string", demandOption: true, describe: "DONE/TOTAL, e.g. 3/10" })
        .positional("label", { type: "string", array: true, describe: "what it is working on now" })
        .example("aipm progress 3/10 img_0003.png", "in a worker: 3 of 10 done, working on img_0003.png")
        .example("echo 'AIPM_PROGRESS 3/10 img_0003.png'", "the same, printed by a command task"),
    async (args) => {
      const { done, total } = parseProgress(String(args.fraction));
      const env = io.env;
      const project = env.AIPM_PROJECT;
      const task = env.AIPM_TASK;
      const dbPath = args.db ?? env.AIPM_DB;
      if (!project || !task || !dbPath) {
        throw usageError("progress is run by a worker aipm started (AIPM_PROJECT, AIPM_TASK and AIPM_DB are not set)");
      }
      const attempt = env.AIPM_ATTEMPT && /^\d+$/.test(env.AIPM_ATTEMPT) ? Number(env.AIPM_ATTEMPT) : null;
      const label = (args.label ?? []).map(String).join(" ") || null;
      const store = await openStore({ db: dbPath, cwd: io.cwd, env, orm: false });
      try {
        reportProgress(store, { project, task, attempt, done, total, label });
      } finally {
        store.close();
      }
      emit(io, args, { project, task, progress: { done, total }, label }, () => "");
    },
  );
}
