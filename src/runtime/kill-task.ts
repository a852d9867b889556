/**
 * `aipm kill`: stop a task. A QUEUED task is cancelled before it starts. A
 * running one is marked first (so that its end counts as killed, not as a
 * failure to retry), then its whole process group gets SIGTERM and, after
 * the grace period, SIGKILL; once the group is gone the end is recorded —
 * CANCELLED, or QUEUED with `requeue` — and its locks are released. The locks
 * are held until every process of the task is gone.
 */
import type { Store } from "../store/open.js";
import { runOutcome, runningPid } from "../store/runs.js";
import { taskStatus } from "../store/tasks-read.js";
import { cancelQueued, finish, finishReview, requestKill } from "../store/transitions.js";
import { usageError } from "../errors.js";
import { groupAlive, signalGroup } from "./proc.js";
import { findTask } from "./find-task.js";
import { attemptHost } from "../store/hosts.js";
import { thisHost } from "../config/host.js";

export interface KillInput {
  task: string;
  project?: string | undefined;
  requeue: boolean;
  graceS: number;
  backoffS: number;
  /** This host (AIPM_HOST): a task running on another host is killed there, not here. Default: from the environment. */
  host?: string | undefined;
}

export interface KillResult {
  project: string;
  order: string;
  task: string;
  was: string;
  status: string;
  pid: number | null;
  signal: "SIGTERM" | "SIGKILL" | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= until) return false;
    await sleep(25);
  }
  return true;
}

export async function killTask(store: Store, input: KillInput): Promise<KillResult> {
  const ref = findTask(store, input.task, input.project);
  const base = { project: ref.project, order: ref.order, task: ref.task, was: ref.status };
  if (ref.status === "QUEUED") {
    if (input.requeue) return { ...base, status: "QUEUED", pid: null, signal: null };
    cancelQueued(store, ref.project, ref.task);
    return { ...base, status: currentStatus(store, ref.project, ref.task), pid: null, signal: null };
  }
  if (ref.status !== "IN_PROGRESS" && ref.status !== "REVIEW") {
    throw usageError(`task ${ref.task} is ${ref.status}: nothing to kill`);
  }
  // Its pid means something only on the host that started it: never signal a process here for another host's attempt.
  const runsOn = attemptHost(store, ref.project, ref.task, ref.attempt);
  const here = input.host ?? thisHost(process.env).name;
  if (runsOn !== null && runsOn !== here) {
    throw usageError(`task ${ref.task} runs on host ${runsOn}, not on ${here}: run aipm kill there (AIPM_HOST=${runsOn})`);
  }
  // The process that runs now: the worker, or in REVIEW its review process.
  const current = () => runningPid(store, ref.project, ref.task, ref.attempt);
  const request = input.requeue ? "requeue" : "cancel";
  const pid = current();
  requestKill(store, { project: ref.project, task: ref.task, attempt: ref.attempt, request });
  let signal: KillResult["signal"] = null;
  const stop = async (p: number | null) => {
    if (p === null || !groupAlive(p)) return;
    signal ??= "SIGTERM";
    signalGroup(p, "SIGTERM");
    if (!(await waitGone(p, input.graceS * 1000))) {
      signal = "SIGKILL";
      signalGroup(p, "SIGKILL");
      await waitGone(p, 5000);
    }
  };
  await stop(pid);
  // The work may have succeeded just before the kill arrived, and its review started since.
  const reviewer = current();
  if (reviewer !== pid) await stop(reviewer);
  // The supervisor usually records the end first; if nobody did, record it here.
  const attempt = { project: ref.project, task: ref.task, attempt: ref.attempt };
  const ended = finish(store, { ...attempt, end: { kind: "killed", request, exitCode: null, signal }, backoffS: input.backoffS });
  if (!ended.ok && ended.status === "REVIEW") {
    const last = current();
    finishReview(store, { ...attempt, verdict: { kind: "killed", request } });
    // A review started between our last look and the transition: it must not run on.
    if (last !== null && last !== reviewer) await stop(last);
  }
  return { ...base, status: await endOfAttempt(store, ref.project, ref.task, ref.attempt, request), pid, signal };
}

/**
 * The status the killed attempt ended in. Read from its run, not from the
 * task: a supervisor may already have launched the requeued task again.
 */
async function endOfAttempt(store: Store, project: string, task: string, attempt: number, request: string): Promise<string> {
  const outcome = () => runOutcome(store, project, task, attempt);
  const until = Date.now() + 2000;
  const open = () => ["running", "reviewing"].includes(outcome() ?? "");
  while (open() && Date.now() < until) await sleep(20);
  if (outcome() === "killed") return request === "requeue" ? "QUEUED" : "CANCELLED";
  return currentStatus(store, project, task);
}

function currentStatus(store: Store, project: string, task: string): string {
  return taskStatus(store, project, task) as string;
}
