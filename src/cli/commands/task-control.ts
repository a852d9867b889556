/**
 * Commands that act on one task or order by hand: `kill`, `retry`, `pause`,
 * `resume`, and `recover` (which acts on every abandoned attempt).
 */
import { syncWanted } from "../../git-sync/root-need.js";
import { thisHost } from "../../config/host.js";
import type { Argv } from "yargs";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { hostOfEnv, recover } from "../../runtime/in-flight.js";
import { ensureSupervisor } from "../../runtime/ensure-supervisor.js";
import { killAction, pauseAction, retryAction, scaleAction } from "../../runtime/task-actions.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";

export function registerTaskControl(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y
    .command(
      "kill <task>",
      "stop a task: SIGTERM to its process group, SIGKILL after a grace period; CANCELLED (or QUEUED with --requeue)",
      (b) =>
        b
          .positional("task", { type: "string", demandOption: true })
          .option("project", { type: "string", describe: "the task's project (needed when the id is in several)" })
          .option("requeue", { type: "boolean", describe: "put the task back to QUEUED instead of CANCELLED" })
          .example("aipm kill T3", "stop T3 (CANCELLED)")
          .example("aipm kill T3 --requeue", "stop T3 and queue it again"),
      async (args) => {
        const r = await withStore(io, args, (store) =>
          killAction(store, { task: args.task, project: args.project, requeue: Boolean(args.requeue), env: io.env }),
        );
        emit(io, args, r, () => `${r.project}/${r.task}: ${r.was} -> ${r.status}${r.signal ? ` (${r.signal} to process group ${r.pid})` : ""}\n`);
      },
    )
    .command(
      "retry <task>",
      "put a FAILED, CANCELLED or SKIPPED task back to QUEUED with fresh attempts (what was skipped because of it is judged again)",
      (b) =>
        b
          .positional("task", { type: "string", demandOption: true })
          .option("project", { type: "string" })
          .example("aipm retry T3", "run the failed T3 again, with fresh attempts"),
      async (args) => {
        const r = await withStore(io, args, (store) => retryAction(store, { task: args.task, project: args.project, env: io.env }));
        emit(io, args, r, () => `${r.project}/${r.task}: ${r.was} -> QUEUED\n`);
      },
    )
    .command(
      ["pause <project> <order>", "resume <project> <order>"],
      "pause: launch nothing new for the order (running tasks go on); resume: launch again",
      (b) =>
        b
          .positional("project", { type: "string", demandOption: true })
          .positional("order", { type: "string", demandOption: true })
          .example("aipm pause myproj O1", "launch nothing new for O1 (running tasks go on)")
          .example("aipm resume myproj O1", "launch again"),
      async (args) => {
        const paused = args._[0] === "pause";
        const r = await withStore(io, args, (store) => pauseAction(store, { project: args.project, order: args.order, paused, env: io.env }));
        emit(io, args, r, () => `${r.project}/${r.order}: ${paused ? "paused" : "resumed"}\n`);
      },
    )
    .command(
      "scale <project> <order> <workers>",
      "change an order's worker limit at once (N >= 1; a running supervisor uses it; `pause` stops launching)",
      (b) =>
        b
          .positional("project", { type: "string", demandOption: true })
          .positional("order", { type: "string", demandOption: true })
          .positional("workers", { type: "string", demandOption: true, describe: "the new limit, a whole number from 1 up" })
          .example("$0 scale demo ORDER_001 8", "let ORDER_001 run 8 tasks at once"),
      async (args) => {
        const n = Number(args.workers);
        if (!/^\d+$/.test(String(args.workers).trim()) || n < 1) throw usageError(`scale: expected a whole number of workers from 1 up, got ${args.workers}`);
        const r = await withStore(io, args, (store) => scaleAction(store, { project: args.project, order: args.order, workers: n, env: io.env }));
        emit(io, args, r, () => `${r.project}/${r.order}: max workers ${r.was} -> ${r.max_workers}${r.active ? "" : " (applies at its next launch)"}\n`);
      },
    )
    .command(
      "recover",
      "record what became of attempts whose aipm process is gone; hand live orphans to a supervisor",
      (b) => b.example("aipm recover", "after a reboot: record what became of the workers"),
      async (args) => {
        const rt = resolveRuntimeOptions(io.env);
        const r = await withStore(io, args, (store) => {
          const report = recover(store, { ...rt, ...hostOfEnv(io.env), gitSync: syncWanted(thisHost(io.env), store.path) });
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
