/**
 * The REVIEW step of an attempt. A successful attempt launched for review
 * stays REVIEW (its locks held) while the review command runs:
 * `$AIPM_REVIEW_CMD` (a JSON argv template, the agent command's rules), by
 * default aipm's own `review-with-agent` (Claude reading the review prompt
 * and answering with a verdict). It runs like a worker — under the same
 * wrapper, in its own process group, detached — with the review prompt on
 * stdin (unless the template places `{prompt}`), the task's AIPM_* variables
 * plus AIPM_REVIEW=1, its output in `<attempt>.review.log`.
 *
 * Its end decides: exit 0 approves (DONE); exit 75 (or a review process that
 * vanished or went silent) means no verdict — the review runs again, at most
 * MAX_REVIEW_RUNS times, then the task FAILS as `review_error`; any other
 * exit rejects: the review's answer becomes the feedback the next attempt
 * reads, and the task is QUEUED again (FAILED as `review_rejected` when no
 * attempt remains). A review command that cannot start FAILS the task at
 * once (`review_error`): retrying the work cannot fix a missing reviewer.
 */
import { join } from "node:path";
import type { Store } from "../store/open.js";
import { stmt } from "../store/statements.js";
import { finishReview, rerunReview, startReview, type FinishResult } from "../store/transitions.js";
import { packageRoot } from "../util/package-root.js";
import { expandTemplate, parseTemplate } from "./task-command.js";
import { buildReviewPrompt } from "../agent/review-prompt.js";
import { prepareSpawn, spawnPrepared, type SpawnedWorker } from "./spawn-worker.js";
import { procStartTime } from "./proc.js";
import { readTail } from "../util/tail.js";
import { stripTrailer } from "../../worker/task-wrapper.js";
import { AgentStream } from "../agent/stream-json.js";
import { readAgentLog } from "../agent/read-agent-log.js";
import { parseVerdict, REVIEW_TEMPFAIL } from "../agent/verdict.js";

export const MAX_REVIEW_RUNS = 3;
const FEEDBACK_MAX = 4000;

export function defaultReviewCommand(): string[] {
  return [process.execPath, join(packageRoot(), "dist", "worker", "review-with-agent.js"), "--model", "{model}"];
}

export function reviewFiles(dbDir: string, project: string, task: string, attempt: number): { log: string; prompt: string } {
  const dir = join(dbDir, "logs", project, task);
  return { log: join(dir, `${attempt}.review.log`), prompt: join(dir, `${attempt}.review.prompt`) };
}

interface ReviewDef {
  order_id: string;
  model: string | null;
  root: string;
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
  const def = stmt(
    store,
    `SELECT t.order_id, t.model, COALESCE(t.cwd, p.root) AS root FROM tasks t JOIN projects p ON p.id = t.project_id
      WHERE t.project_id = ? AND t.id = ? AND t.status = 'REVIEW' AND t.attempt = ?`,
  ).get(r.project, r.task, r.attempt) as ReviewDef | undefined;
  if (!def) return { ok: false, error: "the task is no longer in REVIEW", result: null };
  const files = reviewFiles(store.dir, r.project, r.task, r.attempt);
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
    const targetFiles = stmt(store, "SELECT path FROM task_files WHERE project_id = ? AND task_id = ? ORDER BY position")
      .pluck()
      .all(r.project, r.task) as string[];
    const prepared = prepareSpawn({
      project: r.project,
      order: def.order_id,
      task: r.task,
      attempt: r.attempt,
      root: def.root,
      dbPath: store.path,
      targetFiles,
      argv,
      stdin: promptPlaced ? null : prompt,
      files,
      env: r.env,
    });
    prepared.vars.AIPM_REVIEW = "1";
    worker = spawnPrepared(prepared, r.env);
  } catch (err) {
    const error = `review command could not start: ${(err as Error).message}`;
    const result = finishReview(store, { project: r.project, task: r.task, attempt: r.attempt, verdict: { kind: "error", error } });
    return { ok: false, error, result };
  }
  startReview(store, {
    project: r.project,
    task: r.task,
    attempt: r.attempt,
    pid: worker.pid,
    procStart: worker.procStart,
    logPath: files.log,
    ownerStart: procStartTime(process.pid),
  });
  return { ok: true, worker, logPath: files.log };
}

/** The review's answer as feedback: a stream-json reviewer's final result, else the end of its output. */
export function reviewFeedback(logPath: string): string {
  const text = stripTrailer(readTail(logPath, 64 * 1024));
  const stream = new AgentStream();
  for (const line of text.split("\n")) stream.push(line);
  const answer = stream.summary.result?.result ?? (stream.summary.streaming ? stream.summary.textTail.join("\n") : text);
  const feedback = parseVerdict(answer).feedback
    .split("\n")
    .filter((l) => !l.startsWith("[aipm-review] "))
    .join("\n")
    .trim();
  const cut = feedback.length > FEEDBACK_MAX ? `...${feedback.slice(-FEEDBACK_MAX)}` : feedback;
  return cut || "(the reviewer rejected the change without saying why)";
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
}

/** Adds what a stream-json reviewer reported (cost, turns) to the attempt's run. */
function recordReviewerCost(store: Store, e: ReviewEnd): void {
  const r = readAgentLog(e.logPath).result;
  if (!r || (r.total_cost_usd === null && r.num_turns === null)) return;
  stmt(
    store,
    `UPDATE runs SET review_cost_usd = COALESCE(review_cost_usd, 0) + ?, review_num_turns = COALESCE(review_num_turns, 0) + ?
      WHERE project_id = ? AND task_id = ? AND attempt = ? AND outcome = 'reviewing'`,
  ).run(r.total_cost_usd ?? 0, r.num_turns ?? 0, e.project, e.task, e.attempt);
}

/** Records what a review's end means for the task (see the header). */
export function concludeReview(store: Store, e: ReviewEnd): FinishResult | { ok: false; status: "REVIEW"; rerun: true } {
  recordReviewerCost(store, e);
  const run = stmt(
    store,
    "SELECT kill_request, review_runs FROM runs WHERE project_id = ? AND task_id = ? AND attempt = ?",
  ).get(e.project, e.task, e.attempt) as { kill_request: "cancel" | "requeue" | null; review_runs: number } | undefined;
  const base = { project: e.project, task: e.task, attempt: e.attempt };
  if (run?.kill_request) return finishReview(store, { ...base, verdict: { kind: "killed", request: run.kill_request } });
  if (e.lost || e.exitCode === null || e.exitCode === REVIEW_TEMPFAIL) {
    if ((run?.review_runs ?? 0) < MAX_REVIEW_RUNS && rerunReview(store, { ...base, pid: e.pid })) {
      return { ok: false, status: "REVIEW", rerun: true };
    }
    const why = e.lost ? "the review process was lost" : `the reviewer failed (exit ${e.exitCode})`;
    return finishReview(store, { ...base, verdict: { kind: "error", error: `no review verdict after ${MAX_REVIEW_RUNS} runs: ${why}` } });
  }
  if (e.exitCode === 0) return finishReview(store, { ...base, verdict: { kind: "approved" } });
  return finishReview(store, { ...base, verdict: { kind: "rejected", feedback: reviewFeedback(e.logPath) } });
}
