/**
 * `aipm execute-task PROJECT TASK`: run one task in the foreground as its
 * worker — its dependencies must be DONE and its files free; the worker
 * limit does not apply to a task asked for by name — following its log,
 * retrying after the backoff while attempts remain, until it is DONE, FAILED
 * or CANCELLED. With `parallel`, the task's order is launched too, and its
 * other tasks are supervised while this one runs (and handed to a supervisor
 * after).
 */
import type { Store } from "../store/open.js";
import { taskOutcome, type TaskOutcome } from "../store/tasks-read.js";
import type { TaskStatus } from "../store/schema.js";
import type { RuntimeOptions } from "../config/runtime-options.js";
import type { LaunchOptions } from "../config/launch-options.js";
import type { ResourceMonitor } from "../resources/monitor.js";
import { failedError, usageError } from "../errors.js";
import { getProject } from "../store/read-project.js";
import { findTask } from "./find-task.js";
import { hostOfEnv, recover } from "./in-flight.js";
import { launchTask, type LaunchTaskResult } from "./launch-task.js";
import { activateOrder, launchOrder } from "./launch-order.js";
import { Supervisor } from "./supervisor.js";
import { handOver } from "./wait-order.js";
import { LogFollower } from "./task-logs.js";
import { NO_COST, taskCosts } from "../report/task-costs.js";

export interface ExecuteInput {
  project: string;
  task: string;
  parallel: boolean;
  options: LaunchOptions;
  runtime: RuntimeOptions;
  env: NodeJS.ProcessEnv;
  monitor?: ResourceMonitor | undefined;
  /** Receives the task's output as it is written. */
  onOutput?: (text: string) => void;
}

export interface ExecuteResult {
  project: string;
  order: string;
  task: string;
  status: TaskStatus;
  attempts: number;
  exit_code: number | null;
  error: string | null;
  failure_kind: string | null;
  /** Agent tasks: summed over every attempt. */
  cost_usd: number | null;
  num_turns: number | null;
  out_of_scope: string[];
  log: string | null;
}

type TaskNow = TaskOutcome;

function refusalMessage(task: string, r: Extract<LaunchTaskResult, { ok: false }>): string {
  if ("error" in r) return `${task} could not start: ${r.error}`;
  const x = r.refused;
  switch (x.reason) {
    case "dependency":
      return `${task} cannot run yet: waiting for ${x.waiting_for.join(", ")}`;
    case "file_conflict":
      return `${task} cannot run now: ${x.file} is held by ${x.held_by}`;
    case "paused":
      return `${task} cannot run: its order is paused`;
    case "host":
      return `${task} cannot run on this host: it needs the label${x.runs_on.length === 1 ? "" : "s"} ${x.runs_on.join(",")} (runs_on) and AIPM_HOST_LABELS does not have them all`;
    case "rate_limit":
      return `${task} cannot run before ${new Date(x.retry_at).toISOString()}: a usage limit holds the project's agent tasks`;
    case "budget":
      return `${task} cannot run: its order spent $${Math.round(x.spent_usd * 1e4) / 1e4} of its $${x.budget_usd} budget (raise budget_usd)`;
    default:
      return `${task} cannot run now (${x.reason})`;
  }
}

export async function executeTask(store: Store, input: ExecuteInput): Promise<ExecuteResult> {
  getProject(store, input.project);
  recover(store, { project: input.project, ...input.runtime, ...hostOfEnv(input.env) });
  const ref = findTask(store, input.task, input.project);
  if (ref.status !== "QUEUED") {
    const hint = ref.status === "FAILED" || ref.status === "CANCELLED" ? ` (aipm retry ${ref.task} first)` : "";
    throw usageError(`task ${ref.task} is ${ref.status}, not QUEUED${hint}`);
  }
  const now = (): TaskNow => taskOutcome(store, ref.project, ref.task) as TaskNow;
  const launch = (): LaunchTaskResult =>
    launchTask(store, {
      project: ref.project,
      task: ref.task,
      effectiveWorkers: input.options.maxWorkers,
      model: input.options.model,
      review: input.options.review,
      env: input.env,
      ignoreCapacity: true,
    });

  const first = launch();
  if (!first.ok) throw failedError(refusalMessage(ref.task, first));
  let logPath = first.logPath;
  const follower = new LogFollower(logPath);
  const follow = () => {
    const text = follower.read();
    if (text) input.onOutput?.(text);
  };
  const others = input.parallel
    ? (
        await launchOrder(store, {
          project: ref.project,
          order: ref.order,
          options: input.options,
          backoffS: input.runtime.backoffS,
          env: input.env,
          monitor: input.monitor,
          dryRun: false,
        })
      ).launched
    : [];
  if (input.parallel) activateOrder(store, ref.project, ref.order, input.options);

  let supervisor: Supervisor | null = null;
  let failure: string | null = null;
  let holdUntil = 0;
  supervisor = new Supervisor(store, ref.project, {
    runtime: input.runtime,
    env: input.env,
    monitor: input.monitor,
    until: () => {
      follow();
      const t = now();
      if (t.status === "QUEUED" && (t.retry_at === null || t.retry_at <= store.now()) && holdUntil <= store.now()) {
        // A retry is due and nobody else launched it: run the next attempt here.
        const next = launch();
        if (next.ok) {
          follow();
          logPath = next.logPath;
          follower.switchTo(logPath);
          supervisor!.watchLaunched(next);
        } else if ("refused" in next && next.refused.reason === "rate_limit") {
          // A usage limit holds the project's agent tasks: wait for its reset, as a supervisor would.
          holdUntil = next.refused.retry_at;
        } else if (!("refused" in next && next.refused.reason === "not_queued")) {
          failure = refusalMessage(ref.task, next);
          return true;
        }
        return false;
      }
      return t.status === "DONE" || t.status === "FAILED" || t.status === "CANCELLED" || t.status === "SKIPPED";
    },
  });
  supervisor.watchLaunched(first);
  for (const l of others) supervisor.watchLaunched(l);
  await supervisor.run();
  follow();
  if (input.parallel) handOver(store, ref.project, input.env);
  if (failure) throw failedError(failure);
  const t = now();
  const cost = taskCosts(store, ref.project, ref.order).get(ref.task) ?? NO_COST;
  return {
    project: ref.project,
    order: ref.order,
    task: ref.task,
    status: t.status,
    attempts: t.attempt,
    exit_code: t.exit_code,
    error: t.error,
    failure_kind: t.failure_kind,
    cost_usd: cost.cost_usd,
    num_turns: cost.num_turns,
    out_of_scope: cost.out_of_scope,
    log: logPath,
  };
}
