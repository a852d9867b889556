/**
 * The REVIEW step of an attempt. A successful attempt launched for review
 * stays REVIEW (its locks held) while the review command runs:
 * `$AIPM_REVIEW_CMD` (a JSON argv template, the agent command's rules), by
 * default aipm's own `review-with-agent` (Claude reading the review prompt
 * and answering with a verdict). It runs like a worker — under the same
 * wrapper, in its own process group, detached — with the review prompt on
 * stdin (unless the template places `{prompt}`), the task's AIPM_* variables
 * plus AIPM_REVIEW=1, each run's output in its own `<attempt>.review-<run>.log`.
 *
 * Its end decides: exit 0 approves (DONE); exit 75 (or a review process that
 * vanished or went silent) means no verdict — the review runs again after a
 * backoff (AIPM_RETRY_BACKOFF_S, doubling), at most MAX_REVIEW_RUNS runs, then the task FAILS
 * as `review_error`; a reviewer that hit a usage limit (the default review
 * command says `[aipm-review] rate limited until <time>`) runs again after
 * the reset, and that run does not count; any other
 * exit rejects: the review's answer becomes the feedback the next attempt
 * reads, and the task is QUEUED again (FAILED as `review_rejected` when no
 * attempt remains). A review command whose program is missing FAILS the
 * task at once (`review_error`): retrying the work cannot fix a missing
 * reviewer; any other start failure counts as a run without a verdict.
 */
import { thisHost } from "../config/host.js";
import { join } from "node:path";
import type { Store } from "../store/open.js";
import { reviewRunState, reviewToStart } from "../store/runs.js";
import { targetFiles } from "../store/tasks-read.js";
import { finishReview, rerunReview, startReview, type FinishResult, type ReviewerCost } from "../store/transitions.js";
import { packageRoot } from "../util/package-root.js";
import { expandTemplate, parseTemplate } from "./task-command.js";
import { buildReviewPrompt } from "../agent/review-prompt.js";
import { reviewerRules, settingsJson } from "../agent/permissions.js";
import { agentApiTimeoutS } from "../config/agent-options.js";
import { prepareSpawn, spawnPrepared, type SpawnedWorker } from "./spawn-worker.js";
import { procStartTime, signalGroup } from "./proc.js";
import { readTail } from "../util/tail.js";
import { AgentStream } from "../agent/stream-json.js";
import { parseVerdict, REVIEW_TEMPFAIL } from "../agent/verdict.js";

export const MAX_REVIEW_RUNS = 3;
/** First wait before a review with no verdict runs again; doubles with each run. */
const RERUN_BACKOFF_MS = 5_000;
const FEEDBACK_MAX = 4000;

export function defaultReviewCommand(): string[] {
  return [process.execPath, join(packageRoot(), "dist", "worker", "review-with-agent.js"), "--model", "{model}"];
}

/** One log and one prompt file per review run: `<attempt>.review-<run>.log` (a wrapper appends; runs must not share). */
export function reviewFiles(dbDir: string, project: string, task: string, attempt: number, run: number): { log: string; prompt: string; settings: string } {
  const dir = join(dbDir, "logs", project, task);
  const base = join(dir, `${attempt}.review-${run}`);
  return { log: `${base}.log`, prompt: `${base}.prompt`, settings: `${base}.settings.json` };
}

export interface StartedReview {
  ok: true;
  worker: SpawnedWorker;
  logPath: string;
}

/**
 * Starts the review process of a REVIEW task's attempt and records it. When
 * it cannot start, the task FAILS (`review_error`) and the error is returned.
 */
export function spawnReview(
  store: Store,
  r: { project: string; task: string; attempt: number; model: string | null; env: NodeJS.ProcessEnv },
): StartedReview | { ok: false; error: string; result: FinishResult | null } {
  const def = reviewToStart(store, r.project, r.task, r.attempt);
  if (!def) return { ok: false, error: "the task is no longer in REVIEW", result: null };
  const files = reviewFiles(store.dir, r.project, r.task, r.attempt, def.review_runs + 1);
  let worker: SpawnedWorker;
  try {
    const template = parseTemplate(r.env.AIPM_REVIEW_CMD, "AIPM_REVIEW_CMD") ?? defaultReviewCommand();
    const prompt = buildReviewPrompt(store, r.project, r.task, r.attempt);
    const { argv, promptPlaced } = expandTemplate(template, {
      prompt,
      model: def.model ?? r.model,
      task: r.task,
      order: def.order_id,
      project: r.project,
    });
    const target = targetFiles(store, r.project, r.task);
    const prepared = prepareSpawn({
      project: r.project,
      order: def.order_id,
      task: r.task,
      attempt: r.attempt,
      root: def.root,
      dbPath: store.path,
      dbDir: store.dir,
      targetFiles: target,
      argv,
      stdin: promptPlaced ? null : prompt,
      files,
      env: r.env,
      host: thisHost(r.env).name,
      // The reviewer reads and answers: it edits nothing and runs nothing.
      agent: { settings: settingsJson(reviewerRules()), apiTimeoutS: agentApiTimeoutS(r.env) },
    });
    prepared.vars.AIPM_REVIEW = "1";
    worker = spawnPrepared(prepared, r.env);
  } catch (err) {
    const error = `review command could not start: ${(err as Error).message}`;
    const base = { project: r.project, task: r.task, attempt: r.attempt };
    // A missing program (or a bad template) will not fix itself; anything else may (EAGAIN, ENOSPC).
    const permanent = /ENOENT|AIPM_REVIEW_CMD/.test(error);
    if (!permanent && def.review_runs + 1 < MAX_REVIEW_RUNS) {
      rerunReview(store, { ...base, pid: null, retryAt: store.now() + RERUN_BACKOFF_MS, why: error });
      return { ok: false, error, result: null };
    }
    const result = finishReview(store, { ...base, verdict: { kind: "error", error } });
    return { ok: false, error, result };
  }
  const recorded = startReview(store, {
    project: r.project,
    task: r.task,
    attempt: r.attempt,
    pid: worker.pid,
    procStart: worker.procStart,
    logPath: files.log,
    ownerStart: procStartTime(process.pid),
  });
  if (!recorded) {
    // Killed, or started by another process meanwhile: this reviewer must not run unrecorded.
    signalGroup(worker.pid, "SIGKILL");
    worker.child?.unref();
    return { ok: false, error: "the review was taken over or the task moved on", result: null };
  }
  return { ok: true, worker, logPath: files.log };
}

export interface ReviewEnd {
  project: string;
  task: string;
  attempt: number;
  pid: number | null;
  logPath: string;
  exitCode: number | null;
  /** Gone without an exit status, or killed by aipm for silence. */
  lost: boolean;
  /** First wait before a run with no verdict runs again (s); doubles. Default 5. */
  backoffS?: number;
  /** Git sync could not push the approved attempt's edits: why (the task does not end DONE). */
  unpublished?: string | undefined;
}

/**
 * What one review run left in its log, read once: its cost (a stream-json
 * reviewer's result), a usage limit's reset when it hit one, and its answer
 * as feedback — the reviewer's final result, else the end of its output,
 * without the verdict line and aipm's own lines, cut to FEEDBACK_MAX.
 */
function readReview(logPath: string, now: number): { cost: ReviewerCost | null; rateLimitedUntil: number | null; feedback: string } {
  const text = readTail(logPath, 256 * 1024);
  const stream = new AgentStream();
  for (const line of text.split("\n")) stream.push(line);
  const r = stream.summary.result;
  const cost = r ? { costUsd: r.total_cost_usd, numTurns: r.num_turns } : null;
  const m = /^\[aipm-review\] rate limited until (\S+)/m.exec(text);
  const until = m ? Date.parse(m[1]!) : NaN;
  const answer = r?.result ?? (stream.summary.streaming ? stream.summary.textTail.join("\n") : text);
  const said = parseVerdict(answer)
    .feedback.split("\n")
    .filter((l) => !l.startsWith("[aipm-review] "))
    .join("\n")
    .trim();
  const feedback = said.length > FEEDBACK_MAX ? `...${said.slice(-FEEDBACK_MAX)}` : said;
  return {
    cost,
    rateLimitedUntil: Number.isFinite(until) ? Math.max(until, now) : null,
    feedback: feedback || "(the reviewer rejected the change without saying why)",
  };
}

/**
 * Records what a review's end means for the task (see the header). Returns
 * `{ok:false}` when another process recorded it first — or `rerun` when the
 * review is to run again (not before `retryAt`).
 */
export interface ReviewRerun {
  ok: false;
  status: "REVIEW";
  rerun: true;
  retryAt: number | null;
}

export function isRerun(r: FinishResult | ReviewRerun): r is ReviewRerun {
  return !r.ok && "rerun" in r;
}

export function concludeReview(store: Store, e: ReviewEnd): FinishResult | ReviewRerun {
  const run = reviewRunState(store, e.project, e.task, e.attempt);
  const base = { project: e.project, task: e.task, attempt: e.attempt };
  const now = store.now();
  const { cost, rateLimitedUntil, feedback } = readReview(e.logPath, now);
  if (run?.kill_request) return finishReview(store, { ...base, verdict: { kind: "killed", request: run.kill_request }, cost });
  if (e.lost || e.exitCode === null || e.exitCode === REVIEW_TEMPFAIL) {
    const runs = run?.review_runs ?? 0;
    const why = e.lost ? "the review process was lost" : rateLimitedUntil !== null ? "the reviewer hit a usage limit" : `the reviewer failed (exit ${e.exitCode})`;
    // A usage limit is nobody's fault: wait for its reset, and do not count the run.
    const free = rateLimitedUntil !== null;
    if (free || runs < MAX_REVIEW_RUNS) {
      const retryAt = free ? rateLimitedUntil : Math.round(now + (e.backoffS ?? RERUN_BACKOFF_MS / 1000) * 1000 * 2 ** Math.max(0, runs - 1));
      if (rerunReview(store, { ...base, pid: e.pid, retryAt, free, why, cost })) return { ok: false, status: "REVIEW", rerun: true, retryAt };
      return { ok: false, status: "REVIEW" }; // another process recorded it first
    }
    return finishReview(store, { ...base, verdict: { kind: "error", error: `no review verdict after ${MAX_REVIEW_RUNS} runs: ${why}` }, cost });
  }
  if (e.exitCode === 0) {
    const verdict = e.unpublished ? { kind: "unpublished" as const, error: e.unpublished } : { kind: "approved" as const };
    return finishReview(store, { ...base, verdict, cost });
  }
  return finishReview(store, { ...base, verdict: { kind: "rejected", feedback }, cost });
}
