/**
 * Recording how an attempt ended — the one path every observer takes (the
 * supervisor watching it, recovery finding it over): what was seen (exit
 * status, signal, vanished, aipm's own kills) is classified; a GPU failure in
 * its output fails it at once (`gpu_error`, no retry); for an
 * agent task the stream in its log refines it (result event, failure class,
 * rate limit, cost and turns); in a git project the files it changed outside
 * its target_files are found (a warning, or a failure with AIPM_SCOPE=fail);
 * an agent's final answer is kept as the task's result (what its dependents
 * read); then `finish` records it all in one transaction. A command task
 * outside git costs one SELECT here: this is on every task's path.
 */
import type { Store } from "../store/open.js";
import { attemptToConclude, concurrentRuns, targetFilesOfConcurrentRuns } from "../store/runs.js";
import { targetFiles } from "../store/tasks-read.js";
import { finish, type AttemptEnd, type AttemptReport, type FinishInput, type FinishResult, type TransientPolicy } from "../store/transitions.js";
import { isAbsolute, normalize, relative } from "node:path";
import { classifyEnd, type Observed } from "./attempt-end.js";
import { readAgentLog } from "../agent/read-agent-log.js";
import type { AgentSummary } from "../agent/stream-json.js";
import { agentOutcome } from "../agent/agent-outcome.js";
import { changedSince, insideRoot, type ScopeBase } from "../scope/git-scope.js";
import { targetsConflict, pathsOverlap } from "../paths/conflicts.js";
import { findGpuErrorIn, type GpuFinding } from "../resources/gpu-errors.js";
import { gpuSeen } from "../resources/gpu.js";
import { readTail } from "../util/tail.js";

export interface ConcludeInput {
  project: string;
  task: string;
  attempt: number;
  logPath: string;
  seen: Pick<Observed, "exitCode" | "signal" | "vanished"> &
    Partial<Pick<Observed, "killedFor" | "timeoutS" | "stallKillS">> & {
      /** A GPU failure seen in the output by whoever followed it; undefined: read the log for one. */
      gpuError?: GpuFinding | null;
    };
  backoffS: number;
  rateLimitWaitS: number;
  transient?: TransientPolicy | undefined;
}

const RESULT_MAX = 4000;
/** Recovery reads this much of a log's end for a GPU failure (a supervisor saw all of it as it came). */
const GPU_SCAN_BYTES = 64 * 1024;

/** What an agent attempt's own stream says it did: the files its file tools wrote, whether it ran commands. */
export interface AgentFootprint {
  editedFiles: readonly string[];
  ranCommands: boolean;
}

/** A path an agent gave (absolute, or relative to the root) as a path relative to the root, or null outside it. */
function relativeToRoot(root: string, file: string): string | null {
  const rel = isAbsolute(file) ? relative(root, file) : normalize(file);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? null : rel;
}

/**
 * Files changed during the attempt that it may not edit: neither its own
 * target_files nor those of a task running meanwhile, nor written by the file
 * tools of an agent running meanwhile (its own stream says so). An agent
 * attempt is blamed only for files its own file tools wrote, or — when it ran
 * shell commands, which leave no such trace — for changes nobody else's tools
 * account for. A command task cannot be told apart from its neighbours'
 * shell commands: it is blamed for what no one else accounts for.
 */
export function outOfScope(
  store: Store,
  input: { project: string; task: string; root: string; startedAt: number; base: ScopeBase; agent?: AgentFootprint | undefined },
): string[] {
  const dbDir = insideRoot(input.root, store.dir);
  const changed = changedSince(input.root, input.base, dbDir === "." ? null : dbDir);
  if (changed.length === 0) return [];
  const own = targetFiles(store, input.project, input.task);
  const others = targetFilesOfConcurrentRuns(store, input.project, input.task, input.startedAt, store.now());
  const allowed = [...own, ...others];
  const candidates = changed.filter((file) => {
    if (dbDir !== null && (dbDir === "." || pathsOverlap(dbDir, file))) return false;
    return !allowed.some((entry) => targetsConflict(entry, file));
  });
  if (candidates.length === 0) return [];
  const mine = new Set<string>();
  for (const f of input.agent?.editedFiles ?? []) {
    const rel = relativeToRoot(input.root, f);
    if (rel !== null) mine.add(rel);
  }
  const theirs = editedByOthers(store, input);
  return candidates.filter((file) => {
    if (mine.has(file)) return true;
    if (theirs.has(file)) return false;
    return input.agent ? input.agent.ranCommands : true;
  });
}

/** Files written by the file tools of other agent attempts that ran during this one. */
function editedByOthers(store: Store, input: { project: string; task: string; root: string; startedAt: number }): Set<string> {
  const runs = concurrentRuns(store, input.project, input.task, input.startedAt, store.now());
  const out = new Set<string>();
  for (const r of runs) {
    if (!r.agent) continue;
    // A finished attempt recorded its files; a running one's are in its log so far.
    const files = r.finished_at !== null ? (r.edited_files ? (JSON.parse(r.edited_files) as string[]) : []) : readAgentLog(r.log_path).editedFiles;
    for (const f of files) {
      const rel = relativeToRoot(input.root, f);
      if (rel !== null) out.add(rel);
    }
  }
  return out;
}

export function concludeAttempt(store: Store, input: ConcludeInput): FinishResult {
  return finish(store, judgeAttempt(store, input));
}

/**
 * Everything before the `finish` transaction: what the attempt's end means
 * (reads only: its run, its log, the scope check). The supervisor records
 * several ends judged so in one transaction, and reads an agent's log on a
 * worker thread beforehand (`read.agent`).
 */
export function judgeAttempt(store: Store, input: ConcludeInput, read?: { agent: AgentSummary }): FinishInput {
  const { project, task, attempt } = input;
  const row = attemptToConclude(store, project, task, attempt);
  let end: AttemptEnd = classifyEnd({
    killedFor: null,
    ...input.seen,
    killRequest: row?.kill_request ?? null,
  });
  if (end.kind !== "killed") {
    const gpu = input.seen.gpuError !== undefined ? input.seen.gpuError : findGpuErrorIn(readTail(input.logPath, GPU_SCAN_BYTES));
    // A fallback warning fails a success only where a GPU was there to be used.
    if (gpu && (gpu.hard || end.kind === "failed" || gpuSeen())) {
      const exitCode = end.exitCode;
      const signal = end.kind === "failed" ? end.signal : null;
      end = { kind: "failed", failureKind: "gpu_error", retry: "never", exitCode, signal, error: `GPU failure: ${gpu.line}` };
    }
  }
  let report: AttemptReport | undefined;
  if (row && end.kind !== "killed" && (row.agent || row.scope_base)) {
    report = {};
    let footprint: AgentFootprint | undefined;
    if (row.agent) {
      const agent = read?.agent ?? readAgentLog(input.logPath);
      end = agentOutcome({ base: end, agent, now: store.now(), rateLimitWaitS: input.rateLimitWaitS });
      const r = agent.result;
      report.sessionId = r?.session_id ?? agent.sessionId;
      report.numTurns = r?.num_turns ?? null;
      report.durationMs = r?.duration_ms ?? null;
      report.costUsd = r?.total_cost_usd ?? null;
      report.usage = r?.usage ?? null;
      report.result = r?.result ? r.result.slice(0, RESULT_MAX) : null;
      report.editedFiles = agent.editedFiles;
      report.denials = agent.denials;
      footprint = { editedFiles: agent.editedFiles, ranCommands: agent.ranCommands };
    }
    const base = row.scope_base ? (JSON.parse(row.scope_base) as ScopeBase) : null;
    if (base && base.mode !== "off") {
      const files = outOfScope(store, { project, task, root: row.root, startedAt: row.started_at, base, agent: footprint });
      report.outOfScope = files;
      if (files.length > 0 && base.mode === "fail" && end.kind === "success") {
        const shown = files.slice(0, 5).join(", ") + (files.length > 5 ? `, and ${files.length - 5} more` : "");
        end = { kind: "failed", failureKind: "scope", exitCode: 0, signal: null, error: `edited files outside its target_files: ${shown}` };
      }
    }
  }
  return { project, task, attempt, end, backoffS: input.backoffS, report, transient: input.transient };
}
