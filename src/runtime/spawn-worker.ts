/**
 * Starting a task's process: detached in its own process group (so it
 * outlives aipm and `kill` reaches everything it starts), cwd = the project
 * root, stdout and stderr appended to the attempt's log and stdin from the
 * prompt file (agent tasks) or nothing — both opened by the wrapper, in the
 * child — and the contract's AIPM_* variables.
 *
 * What cannot start is reported here, before anything runs, as a
 * `spawn ENOENT: <program>` error: a missing program or project root.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { wrapperArgv } from "../../worker/task-wrapper.js";
import { procStartTime } from "./proc.js";
import { packageRoot } from "../util/package-root.js";
import { agentVars, sessionVarsIn } from "../agent/worker-env.js";
import { taskStateDir } from "./task-state.js";

export interface AttemptFiles {
  log: string;
  prompt: string;
  /** An agent's permission settings (see src/agent/permissions.ts). */
  settings: string;
}

/** `<db folder>/logs/<project>/<task>/<attempt>.log`, and the prompt and settings files beside it. */
export function attemptFiles(dbDir: string, project: string, task: string, attempt: number): AttemptFiles {
  const dir = join(dbDir, "logs", project, task);
  return { log: join(dir, `${attempt}.log`), prompt: join(dir, `${attempt}.prompt`), settings: join(dir, `${attempt}.settings.json`) };
}

export interface SpawnRequest {
  project: string;
  order: string;
  task: string;
  attempt: number;
  root: string;
  dbPath: string;
  /** The db folder (`store.dir`): checkpoints live under it (on PostgreSQL, this host's `.aipm/`). */
  dbDir: string;
  targetFiles: readonly string[];
  argv: readonly string[];
  stdin: string | null;
  files: Pick<AttemptFiles, "log" | "prompt"> & Partial<Pick<AttemptFiles, "settings">>;
  env: NodeJS.ProcessEnv;
  /** How the attempt before this one ended (`AIPM_PREVIOUS_OUTCOME`): `crashed`, `stalled`, `api_error`... */
  previousOutcome?: string | null | undefined;
  /** An agent worker: its settings file's content; the parent session's variables are removed. */
  agent?: { settings: string; apiTimeoutS: number } | undefined;
  /** This host's name (`AIPM_HOST` for the worker). */
  host?: string | undefined;
}

export interface SpawnedWorker {
  /** The process object when this process started it directly; null through the spawner. */
  child: ChildProcess | null;
  pid: number;
  procStart: string | null;
}

const madeDirs = new Set<string>();
const foundPrograms = new Map<string, string>();

function ensureDir(dir: string): void {
  // A folder being made in the background may not be there yet: check before relying on it.
  if (madeDirs.has(dir) && existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  madeDirs.add(dir);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds a program as the kernel would (PATH lookup unless it has a slash); throws spawn ENOENT. */
export function resolveProgram(program: string, cwd: string, pathVar: string | undefined): string {
  if (program.includes("/")) {
    const full = isAbsolute(program) ? program : resolve(cwd, program);
    if (isExecutable(full)) return full;
    throw new Error(`spawn ENOENT: ${program}`);
  }
  const key = `${pathVar}\0${program}`;
  const cached = foundPrograms.get(key);
  if (cached !== undefined) return cached;
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, program);
    if (isExecutable(full)) {
      foundPrograms.set(key, full);
      return full;
    }
  }
  throw new Error(`spawn ENOENT: ${program}`);
}

/** The contract's variables for the task's process. */
export function workerVars(req: SpawnRequest): Record<string, string> {
  return {
    AIPM_PROJECT: req.project,
    AIPM_ORDER: req.order,
    AIPM_TASK: req.task,
    AIPM_ATTEMPT: String(req.attempt),
    AIPM_TARGET_FILES: JSON.stringify(req.targetFiles),
    AIPM_DB: req.dbPath,
    AIPM_STATE_DIR: taskStateDir(req.dbDir, req.project, req.task),
    ...(req.host !== undefined ? { AIPM_HOST: req.host } : {}),
    // `aipm progress` works in every worker, whether or not aipm is installed on the PATH.
    PATH: `${aipmBinDir()}${delimiter}${req.env.PATH ?? ""}`,
    ...(req.attempt > 1 ? { AIPM_RESUME: "1", AIPM_PREVIOUS_OUTCOME: req.previousOutcome ?? "unknown" } : {}),
  };
}

let binDir: string | undefined;
/** dist/bin: holds an `aipm` that runs this very installation (made by the build). */
export function aipmBinDir(): string {
  return (binDir ??= join(packageRoot(), "dist", "bin"));
}

/**
 * Creates the log and state folders of tasks ahead of need, off the main thread (a pass calls
 * this for its next candidates): a mkdir costs up to ~0.3 ms on a busy disk, per folder.
 */
export function prepareLogDirs(dbDir: string, project: string, tasks: readonly string[]): void {
  for (const task of tasks) {
    for (const dir of [join(dbDir, "logs", project, task), taskStateDir(dbDir, project, task)]) {
      if (madeDirs.has(dir)) continue;
      madeDirs.add(dir);
      mkdir(dir, { recursive: true }).catch(() => madeDirs.delete(dir));
    }
  }
}

/** What to start: `/bin/sh` with these arguments, in `cwd`, with `vars` added to the environment. */
export interface PreparedSpawn {
  args: string[];
  cwd: string;
  vars: Record<string, string>;
  /** Variables of the environment not to pass on (a parent Claude Code session's). */
  unset?: string[];
}

/**
 * Everything before the fork, on the caller's side: the project root and the
 * program must exist (else `spawn ENOENT: ...` is thrown), the log folder is
 * made, the prompt file written.
 */
export function prepareSpawn(req: SpawnRequest): PreparedSpawn {
  const program = req.argv[0];
  if (program === undefined) throw new Error("empty command");
  try {
    if (!statSync(req.root).isDirectory()) throw new Error();
  } catch {
    throw new Error(`spawn ENOENT: project root ${req.root} is missing`);
  }
  resolveProgram(program, req.root, req.env.PATH);
  ensureDir(dirname(req.files.log));
  ensureDir(taskStateDir(req.dbDir, req.project, req.task));
  if (req.stdin !== null) writeFileSync(req.files.prompt, req.stdin);
  const prepared: PreparedSpawn = {
    args: wrapperArgv(req.files.log, req.stdin !== null ? req.files.prompt : null, req.argv),
    cwd: req.root,
    vars: workerVars(req),
  };
  if (req.agent && req.files.settings) {
    writeFileSync(req.files.settings, req.agent.settings);
    Object.assign(prepared.vars, agentVars(req.env, req.files.settings, req.agent.apiTimeoutS));
    prepared.unset = sessionVarsIn(req.env);
  }
  return prepared;
}

/** The environment of a prepared worker: `env` plus its variables, less the ones it must not see. */
export function workerEnv(env: NodeJS.ProcessEnv, p: Pick<PreparedSpawn, "vars" | "unset">): NodeJS.ProcessEnv {
  const out = { ...env, ...p.vars };
  for (const k of p.unset ?? []) delete out[k];
  return out;
}

/** Starts a prepared worker from this process; throws when the process cannot start. */
export function spawnPrepared(p: PreparedSpawn, env: NodeJS.ProcessEnv): SpawnedWorker {
  const child = spawn("/bin/sh", p.args, { cwd: p.cwd, env: workerEnv(env, p), detached: true, stdio: "ignore" });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports its failure asynchronously; the pid is missing when it failed.
    child.on("error", () => {});
    throw new Error("spawn failed: /bin/sh");
  }
  return { child, pid, procStart: procStartTime(pid) };
}

/** Starts the task's process; throws an Error whose message is the launch failure. */
export function spawnWorker(req: SpawnRequest): SpawnedWorker {
  return spawnPrepared(prepareSpawn(req), req.env);
}
