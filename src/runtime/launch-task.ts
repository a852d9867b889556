/**
 * Launching one task: claim it (one IMMEDIATE transaction that re-checks
 * everything and takes its locks), start its process, record the pid. If the
 * process cannot start, the task FAILS as `start_failed` — or, when the
 * failure may pass (out of processes or files), goes back to QUEUED after a
 * backoff (see failStart) — and the caller carries on with other tasks.
 *
 * Split in two for callers that start processes elsewhere (the supervisor's
 * spawner): `prepareLaunch` claims and prepares, then `completeLaunch` or
 * `failLaunch` records the outcome. `launchTask` does all three in place.
 */
import type { Store } from "../store/open.js";
import { claim, failStart, recordSpawn, type ClaimRefusal, type FailStartResult } from "../store/transitions.js";
import { classifyStartFailure } from "./start-failure.js";
import { launchDefinition, type LaunchDefinition } from "../store/tasks-read.js";
import { previousRun, runOutcome, setResumedFrom, setScopeBase } from "../store/runs.js";
import { attemptFiles, prepareSpawn, spawnPrepared, type AttemptFiles, type PreparedSpawn, type SpawnedWorker } from "./spawn-worker.js";
import { parseTemplate, taskCommand, type AgentLaunch } from "./task-command.js";
import { mergeRuleLists, settingsJson, workerRules } from "../agent/permissions.js";
import { resumableSession, resumeMessage } from "../agent/resume.js";
import { agentApiTimeoutS } from "../config/agent-options.js";
import { buildAgentPrompt } from "./agent-prompt.js";
import { thisHost } from "../config/host.js";
import { procStartTime } from "./proc.js";
import { insideRoot, scopeBase, scopeMode } from "../scope/git-scope.js";

let ownStart: string | null | undefined;
function selfStart(): string | null {
  if (ownStart === undefined) ownStart = procStartTime(process.pid);
  return ownStart;
}

export interface LaunchTaskInput {
  project: string;
  task: string;
  effectiveWorkers: number;
  /** Model for prompt tasks that name none. */
  model: string | null;
  /** False for a launch with --no-review (default true: the task's own `review` decides). */
  review?: boolean;
  env: NodeJS.ProcessEnv;
  ignoreCapacity?: boolean;
}

/** A claimed attempt whose process is about to start. */
export interface PreparedLaunch {
  project: string;
  order: string;
  task: string;
  attempt: number;
  logPath: string;
  targetFiles: string[];
  timeoutS: number | null;
  startedAt: number;
  /** The host that claimed it (AIPM_HOST, else the hostname). */
  host: string;
  /** The task's command as given (for the words of a start failure). */
  argv: readonly string[];
  spawn: PreparedSpawn;
}

export interface LaunchedTask extends Omit<PreparedLaunch, "spawn" | "argv"> {
  ok: true;
  worker: SpawnedWorker;
}

export type LaunchTaskResult =
  | LaunchedTask
  | { ok: false; refused: ClaimRefusal }
  | { ok: false; error: string; failed?: FailStartResult };

export function prepareLaunch(
  store: Store,
  input: LaunchTaskInput,
): { ok: true; prepared: PreparedLaunch } | { ok: false; refused: ClaimRefusal } | { ok: false; error: string; failed: FailStartResult } {
  const { project, task } = input;
  const host = thisHost(input.env);
  const c = claim(store, {
    project,
    task,
    effectiveWorkers: input.effectiveWorkers,
    logPath: (attempt) => attemptFiles(store.dir, project, task, attempt).log,
    ownerPid: process.pid,
    ownerStart: selfStart(),
    ignoreCapacity: input.ignoreCapacity,
    review: input.review ?? true,
    host,
  });
  if (!c.ok) return { ok: false, refused: c };
  const startedAt = store.now();
  const files = attemptFiles(store.dir, project, task, c.attempt);
  const def = launchDefinition(store, project, task);
  let argv: readonly string[] | null = null;
  try {
    // The scope check applies to agent tasks, and to commands that name the files they edit.
    if (def.prompt !== null || c.targetFiles.length > 0) {
      const dbDir = insideRoot(def.root, store.dir);
      const base = scopeBase(def.root, scopeMode(input.env), dbDir === "." ? null : dbDir);
      if (base) {
        setScopeBase(store, project, task, c.attempt, JSON.stringify(base));
      }
    }
    const agent = def.prompt === null ? null : agentLaunch(store, { project, task, attempt: c.attempt, def, files, targetFiles: c.targetFiles, env: input.env });
    const cmd = taskCommand(
      {
        project,
        order: c.orderId,
        task,
        command: def.command,
        prompt: agent ? (agent.resumeMessage ?? buildAgentPrompt(store, project, task)) : null,
        model: def.model ?? input.model,
        agent: agent?.launch,
      },
      input.env,
    );
    argv = cmd.argv;
    const spawn = prepareSpawn({
      project,
      order: c.orderId,
      task,
      attempt: c.attempt,
      root: def.root,
      dbPath: store.path,
      dbDir: store.dir,
      targetFiles: c.targetFiles,
      argv: cmd.argv,
      stdin: cmd.stdin,
      files,
      env: input.env,
      host: host.name,
      agent: agent ? { settings: agent.settings, apiTimeoutS: agentApiTimeoutS(input.env) } : undefined,
      previousOutcome: c.attempt > 1 ? (runOutcome(store, project, task, c.attempt - 1) ?? null) : null,
    });
    return {
      ok: true,
      prepared: {
        project,
        order: c.orderId,
        task,
        attempt: c.attempt,
        logPath: files.log,
        targetFiles: c.targetFiles,
        timeoutS: def.timeout_s,
        startedAt,
        host: host.name,
        argv: cmd.argv,
        spawn,
      },
    };
  } catch (err) {
    const f = classifyStartFailure(err, argv ?? []);
    const failed = failStart(store, { project, order: c.orderId, task, attempt: c.attempt, error: f.reason, permanent: f.permanent });
    return { ok: false, error: f.reason, failed };
  }
}

/** An agent attempt's permissions, limits and the session it continues, if any. */
function agentLaunch(
  store: Store,
  a: { project: string; task: string; attempt: number; def: LaunchDefinition; files: AttemptFiles; targetFiles: string[]; env: NodeJS.ProcessEnv },
): { launch: AgentLaunch; settings: string; resumeMessage: string | null } {
  const rules = workerRules({
    root: a.def.root,
    targetFiles: a.targetFiles,
    allowedTools: mergeRuleLists(a.def.project_tools, a.def.order_tools, a.def.task_tools),
  });
  const prev = previousRun(store, a.project, a.task, a.attempt - 1);
  const custom = parseTemplate(a.env.AIPM_AGENT_CMD, "AIPM_AGENT_CMD") !== null;
  const previous = prev ? { outcome: prev.outcome, sessionId: prev.session_id, error: prev.error } : undefined;
  const session = custom ? null : resumableSession(previous, a.env);
  if (session) {
    setResumedFrom(store, a.project, a.task, a.attempt, session);
  }
  return {
    launch: { settingsPath: a.files.settings, maxTurns: a.def.max_turns, maxBudgetUsd: a.def.max_budget_usd, resumeSession: session },
    settings: settingsJson(rules),
    resumeMessage: session && previous ? resumeMessage(previous, a.def.review_feedback) : null,
  };
}

/** The started attempt, as the caller watches it (nothing written). */
export function launchedFrom(p: PreparedLaunch, worker: SpawnedWorker): LaunchedTask {
  const { spawn: _spawn, argv: _argv, ...rest } = p;
  return { ...rest, ok: true, worker };
}

export function completeLaunch(store: Store, p: PreparedLaunch, worker: SpawnedWorker): LaunchedTask {
  recordSpawn(store, { project: p.project, order: p.order, task: p.task, attempt: p.attempt, pid: worker.pid, procStart: worker.procStart });
  return launchedFrom(p, worker);
}

/** The prepared process could not start: FAILED or QUEUED again (see failStart); returns the reason. */
export function failLaunch(store: Store, p: PreparedLaunch, err: unknown): { error: string; failed: FailStartResult } {
  const f = classifyStartFailure(err, p.argv);
  const failed = failStart(store, { project: p.project, order: p.order, task: p.task, attempt: p.attempt, error: f.reason, permanent: f.permanent });
  return { error: f.reason, failed };
}

export function launchTask(store: Store, input: LaunchTaskInput): LaunchTaskResult {
  const r = prepareLaunch(store, input);
  if (!r.ok) return r;
  let worker: SpawnedWorker;
  try {
    worker = spawnPrepared(r.prepared.spawn, input.env);
  } catch (err) {
    return { ok: false, ...failLaunch(store, r.prepared, err) };
  }
  return completeLaunch(store, r.prepared, worker);
}
