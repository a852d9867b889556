/**
 * Launching one task: claim it (one IMMEDIATE transaction that re-checks
 * everything and takes its locks), start its process, record the pid. If the
 * process cannot start, the claim is rolled back — locks released, task
 * QUEUED again with the error — and the caller carries on with other tasks.
 */
import type { Store } from "../store/open.js";
import { claim, recordSpawn, rollbackSpawn, type ClaimRefusal } from "../store/transitions.js";
import { attemptFiles, spawnWorker, type SpawnedWorker } from "./spawn-worker.js";
import { taskCommand } from "./task-command.js";
import { buildAgentPrompt } from "./agent-prompt.js";
import { stmt } from "../store/statements.js";
import { procStartTime } from "./proc.js";

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
  env: NodeJS.ProcessEnv;
  ignoreCapacity?: boolean;
}

export interface LaunchedTask {
  ok: true;
  project: string;
  order: string;
  task: string;
  attempt: number;
  worker: SpawnedWorker;
  logPath: string;
  targetFiles: string[];
  timeoutS: number | null;
  startedAt: number;
}

export type LaunchTaskResult =
  | LaunchedTask
  | { ok: false; refused: ClaimRefusal }
  | { ok: false; error: string };

interface Definition {
  command: string | null;
  prompt: string | null;
  model: string | null;
  timeout_s: number | null;
  root: string;
}

export function launchTask(store: Store, input: LaunchTaskInput): LaunchTaskResult {
  const { project, task } = input;
  const c = claim(store, {
    project,
    task,
    effectiveWorkers: input.effectiveWorkers,
    logPath: (attempt) => attemptFiles(store.dir, project, task, attempt).log,
    ownerPid: process.pid,
    ownerStart: selfStart(),
    ignoreCapacity: input.ignoreCapacity,
  });
  if (!c.ok) return { ok: false, refused: c };
  const startedAt = store.now();
  const files = attemptFiles(store.dir, project, task, c.attempt);
  const def = stmt(
    store,
    `SELECT t.command, t.prompt, t.model, t.timeout_s, COALESCE(t.cwd, p.root) AS root FROM tasks t JOIN projects p ON p.id = t.project_id
      WHERE t.project_id = ? AND t.id = ?`,
  ).get(project, task) as Definition;
  let worker: SpawnedWorker;
  try {
    const cmd = taskCommand(
      {
        project,
        order: c.orderId,
        task,
        command: def.command,
        prompt: def.prompt === null ? null : buildAgentPrompt(store, project, task),
        model: def.model ?? input.model,
      },
      input.env,
    );
    worker = spawnWorker({
      project,
      order: c.orderId,
      task,
      attempt: c.attempt,
      root: def.root,
      dbPath: store.path,
      targetFiles: c.targetFiles,
      argv: cmd.argv,
      stdin: cmd.stdin,
      files,
      env: input.env,
    });
  } catch (err) {
    const error = (err as Error).message;
    rollbackSpawn(store, { project, order: c.orderId, task, attempt: c.attempt, error });
    return { ok: false, error };
  }
  recordSpawn(store, { project, order: c.orderId, task, attempt: c.attempt, pid: worker.pid, procStart: worker.procStart });
  return {
    ok: true,
    project,
    order: c.orderId,
    task,
    attempt: c.attempt,
    worker,
    logPath: files.log,
    targetFiles: c.targetFiles,
    timeoutS: def.timeout_s,
    startedAt,
  };
}
