/**
 * Commands that act on one task or order by hand: `kill`, `retry`, `pause`,
 * `resume`, and `recover` (which acts on every abandoned attempt).
 */
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { killTask } from "../../runtime/kill-task.js";
import { findTask } from "../../runtime/find-task.js";
import { recover } from "../../runtime/in-flight.js";
import { ensureSupervisor } from "../../runtime/ensure-supervisor.js";
import { handOver } from "../../runtime/wait-order.js";
import { retry, setPaused } from "../../store/transitions.js";
import { getOrder } from "../../store/read-project.js";
import { stmt } from "../../store/statements.js";
import { usageError } from "../../errors.js";
import type { Store } from "../../store/open.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";

/** After a task goes back to QUEUED by hand, its order needs a supervisor to launch it. */
function reactivate(store: Store, project: string, order: string, env: NodeJS.ProcessEnv): void {
  stmt(store, "UPDATE orders SET active = 1 WHERE project_id = ? AND id = ?").run(project, order);
  ensureSupervisor(store, project, env);
}

export function registerTaskControl(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y
    .command(
      "kill <task>",
      "stop a task: SIGTERM to its process group, SIGKILL after a grace period; CANCELLED (or QUEUED with --requeue)",
      (b) =>
        b
          .positional("task", { type: "string", demandOption: true })
          .option("project", { type: "string", describe: "the task's project (needed when the id is in several)" })
          .option("requeue", { type: "boolean", describe: "put the task back to QUEUED instead of CANCELLED" }),
      async (args) => {
        const rt = resolveRuntimeOptions(io.env);
        const r = await withStore(io, args, async (store) => {
          const res = await killTask(store, {
            task: args.task,
            project: args.project,
            requeue: Boolean(args.requeue),
            graceS: rt.killGraceS,
            backoffS: rt.backoffS,
          });
          if (args.requeue && res.status === "QUEUED") reactivate(store, res.project, res.order, io.env);
          return res;
        });
        emit(io, args, r, () => `${r.project}/${r.task}: ${r.was} -> ${r.status}${r.signal ? ` (${r.signal} to process group ${r.pid})` : ""}\n`);
      },
    )
    .command(
      "retry <task>",
      "put a FAILED or CANCELLED task back to QUEUED with fresh attempts",
      (b) => b.positional("task", { type: "string", demandOption: true }).option("project", { type: "string" }),
      async (args) => {
        const r = await withStore(io, args, (store) => {
          const ref = findTask(store, args.task, args.project);
          if (!retry(store, ref.project, ref.task)) {
            throw usageError(`task ${ref.task} is ${ref.status}: only FAILED or CANCELLED tasks can be retried`);
          }
          reactivate(store, ref.project, ref.order, io.env);
          return { project: ref.project, order: ref.order, task: ref.task, was: ref.status, status: "QUEUED" };
        });
        emit(io, args, r, () => `${r.project}/${r.task}: ${r.was} -> QUEUED\n`);
      },
    )
    .command(
      ["pause <project> <order>", "resume <project> <order>"],
      "pause: launch nothing new for the order (running tasks go on); resume: launch again",
      (b) => b.positional("project", { type: "string", demandOption: true }).positional("order", { type: "string", demandOption: true }),
      async (args) => {
        const paused = args._[0] === "pause";
        const r = await withStore(io, args, (store) => {
          getOrder(store, args.project, args.order);
          setPaused(store, args.project, args.order, paused);
          if (!paused) handOver(store, args.project, io.env);
          return { project: args.project, order: args.order, paused };
        });
        emit(io, args, r, () => `${r.project}/${r.order}: ${paused ? "paused" : "resumed"}\n`);
      },
    )
    .command(
      "recover",
      "record what became of attempts whose aipm process is gone; hand live orphans to a supervisor",
      (b) => b,
      async (args) => {
        const rt = resolveRuntimeOptions(io.env);
        const r = await withStore(io, args, (store) => {
          const report = recover(store, rt);
          const unwatched = [...report.orphans, ...report.reviews_pending].map((o) => o.project);
          for (const p of new Set(unwatched)) ensureSupervisor(store, p, io.env);
          return report;
        });
        emit(io, args, r, () => {
          const lines = [
            ...r.finished.map((f) => `${f.project}/${f.task} attempt ${f.attempt}: ${f.how === "crashed" ? "worker vanished" : "finished"} -> ${f.status}`),
            ...r.rolled_back.map((f) => `${f.project}/${f.task}: never started -> QUEUED`),
            ...r.orphans.map((f) => `${f.project}/${f.task}: still running (pid ${f.pid}), handed to a supervisor`),
            ...r.reviews_pending.map((f) => `${f.project}/${f.task}: review to run, handed to a supervisor`),
          ];
          return `${lines.length ? lines.join("\n") : "nothing to recover"}\n`;
        });
      },
    );
}
