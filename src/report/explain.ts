/**
 * `aipm explain TASK`: the task's status and, when it is not running, the
 * chain of reasons down to the root cause, in a few lines:
 *
 *   T9 QUEUED: waiting for T4
 *     T4 QUEUED: src/api/** is held by T2
 *       T2 IN_PROGRESS: attempt 2 of 3, running for 41m, pid 4242, last output "> Edit src/api/x.ts"
 *
 * The reason of a QUEUED task is the detector's (the same as
 * `parallel-launch --dry-run`): blocked, paused, dependency, budget,
 * rate_limit, backoff, file_conflict, capacity — with the order's stored
 * worker limit (no resource sampling here). A dependency, a lock holder and
 * the tasks that fill the slots are explained in turn (each task once, five
 * levels at most).
 */
import type { ThisHost } from "../config/host.js";
import { hostNeedText } from "../detect/host-need.js";
import { attemptText, attemptsText } from "./attempt-text.js";
import type { Store } from "../store/open.js";
import { projectsWithTask, taskExists, taskToExplain, type TaskToExplain } from "../store/tasks-read.js";
import { loadProjectTasks, type TaskNode } from "../store/read-project.js";
import type { SkipReason } from "../detect/select.js";
import { waitingReasons } from "./waiting.js";
import { notFound, usageError } from "../errors.js";
import { readLastLine } from "../util/tail.js";

export interface Explanation {
  task: string;
  status: string;
  /** One line: the state, or the reason it waits. */
  summary: string;
  /** The detector's reason for a QUEUED task, as in `parallel-launch --json`; null otherwise. */
  reason: SkipReason | { task: string; reason: "ready" } | null;
  /** What the reason depends on, explained in turn. */
  because: Explanation[];
  /** The host labels it needs (`runs_on`), when it names some. */
  runs_on?: string[];
}

type TaskRow = TaskToExplain;

const MAX_DEPTH = 5;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

class Explainer {
  private readonly tasks: Map<string, TaskNode>;
  private readonly seen = new Set<string>();
  private readonly detections = new Map<string, Map<string, SkipReason>>();
  private readonly now: number;

  constructor(
    private readonly store: Store,
    private readonly project: string,
    private readonly host?: ThisHost,
  ) {
    this.tasks = loadProjectTasks(store, project);
    this.now = store.now();
  }

  row(task: string): TaskRow {
    return taskToExplain(this.store, this.project, task) as TaskRow;
  }

  /** The detector's verdict on every QUEUED task of an order (one run per order). */
  private reasonsOf(order: string): Map<string, SkipReason> {
    let m = this.detections.get(order);
    if (!m) this.detections.set(order, (m = waitingReasons(this.store, this.project, order, this.tasks, this.host)));
    return m;
  }

  explain(task: string, depth = 0): Explanation {
    const r = this.row(task);
    this.seen.add(task);
    const out: Explanation = { task, status: r.status, summary: "", reason: null, because: [] };
    const runsOn = this.tasks.get(task)?.runsOn;
    if (runsOn) out.runs_on = runsOn;
    const attempts = attemptText(r);
    switch (r.status) {
      case "IN_PROGRESS":
      case "REVIEW": {
        const elapsed = r.started_at !== null ? `, running for ${duration(this.now - r.started_at)}` : "";
        const last = r.log_path ? readLastLine(r.log_path) : null;
        out.summary = `${r.status === "REVIEW" ? "in review, " : ""}${attempts}${elapsed}${r.pid ? `, pid ${r.pid}` : ""}${last ? `, last output "${last}"` : ""}`;
        return out;
      }
      case "DONE":
        out.summary = `done after ${attemptsText(r.attempt, r.spent_attempts)}`;
        return out;
      case "FAILED":
      case "CANCELLED":
      case "SKIPPED":
        out.summary = `${r.failure_kind ? `${r.failure_kind}: ` : ""}${r.error ?? "no detail"}${r.status === "SKIPPED" ? "" : ` (${attempts}; aipm retry ${task})`}`;
        return out;
    }
    const reason = this.reasonsOf(r.order_id).get(task) ?? { task, reason: "ready" as const };
    out.reason = reason;
    const deeper = (ids: readonly string[]) => {
      if (depth >= MAX_DEPTH) return;
      for (const id of ids) if (!this.seen.has(id) && this.tasks.has(id)) out.because.push(this.explain(id, depth + 1));
    };
    switch (reason.reason) {
      case "ready":
        out.summary = "ready: it launches on the next pass (a running supervisor, or aipm parallel-launch)";
        break;
      case "blocked":
        out.summary = `blocked: dependency ${reason.failed_dependency} failed (aipm retry ${reason.failed_dependency} unblocks it)`;
        deeper([reason.failed_dependency]);
        break;
      case "paused":
        out.summary = `order ${r.order_id} is paused (aipm resume ${this.project} ${r.order_id})`;
        break;
      case "host":
        out.summary = reason.no_root
          ? `${hostNeedText(reason)}: with git sync each host runs a project in its own clone`
          : `${hostNeedText(reason)}: it launches only where AIPM_HOST_LABELS has every label of its runs_on`;
        break;
      case "dependency":
        out.summary = `waiting for ${reason.waiting_for.join(", ")}`;
        deeper(reason.waiting_for);
        break;
      case "backoff":
        out.summary = `retry backoff until ${reason.retry_at} after: ${r.error ?? "a failed attempt"} (${attempts})`;
        break;
      case "rate_limit":
        out.summary = `a usage limit holds the project's agent tasks until ${reason.retry_at}`;
        break;
      case "budget":
        out.summary = `order ${r.order_id} spent $${reason.spent_usd} of its $${reason.budget_usd} budget`;
        break;
      case "file_conflict":
        out.summary = `${reason.file} is held by ${reason.held_by}`;
        deeper([reason.held_by]);
        break;
      case "capacity": {
        const holders = [...this.tasks.values()].filter((t) => t.status === "IN_PROGRESS" || t.status === "REVIEW").map((t) => t.id);
        out.summary = `no free worker slot: ${holders.length} running (${holders.slice(0, 8).join(", ")}${holders.length > 8 ? ", ..." : ""})`;
        break;
      }
      default:
        out.summary = (reason as { reason: string }).reason;
    }
    return out;
  }
}

/** Explains one task; `project` may be omitted when the id is unique across projects. */
export function explainTask(store: Store, input: { task: string; project?: string | undefined; host?: ThisHost | undefined }): Explanation & { project: string } {
  let project = input.project;
  if (project === undefined) {
    const projects = projectsWithTask(store, input.task);
    if (projects.length === 0) throw notFound.task(input.task);
    if (projects.length > 1) throw usageError(`task ${input.task} is in several projects (${projects.join(", ")}): name one with --project`);
    project = projects[0]!;
  } else if (!taskExists(store, project, input.task)) {
    throw notFound.task(input.task, project);
  }
  return { project, ...new Explainer(store, project, input.host).explain(input.task) };
}

/** The explanation as indented lines. */
export function renderExplanation(e: Explanation, indent = ""): string {
  const where = e.runs_on && e.reason?.reason !== "host" ? ` (runs_on: ${e.runs_on.join(",")})` : "";
  let out = `${indent}${e.task} ${e.status}: ${e.summary}${where}\n`;
  for (const b of e.because) out += renderExplanation(b, `${indent}  `);
  return out;
}
