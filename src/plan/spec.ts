/**
 * Validated plan input: what `aipm import` and `aipm task add` hand to the
 * store once every field has been checked and every target path normalised.
 */
import type { DepCondition, Priority } from "../store/statuses.js";

/** Statuses a plan may give a task on input (COMPLETED is read as DONE). */
export type InputStatus = "QUEUED" | "DONE" | "FAILED" | "CANCELLED";

/** An argv array (spawned directly) or a string (run by /bin/sh -c). */
export type CommandSpec = readonly string[] | string;

export interface TaskSpec {
  id: string;
  title: string;
  priority: Priority;
  deps: string[];
  /** The condition of each dependency that is not a plain one (`on: failure | always`); absent: success. */
  depConditions: Map<string, Exclude<DepCondition, "success">>;
  /** Normalised target paths and globs. */
  targetFiles: string[];
  command: CommandSpec | null;
  prompt: string | null;
  timeoutS: number | null;
  maxAttempts: number;
  model: string | null;
  review: boolean;
  /** Claude Code permission rules this task's agent may use besides its own files (`Bash(npm test *)`). */
  allowedTools: string[];
  /** Agent limits: turns, and USD per attempt. */
  maxTurns: number | null;
  maxBudgetUsd: number | null;
  /** Stall warning stages and kill (seconds without output); null: the settings'. */
  stallWarnS: number[] | null;
  stallKillS: number | null;
  /** Host labels (`runs_on`): it launches only on a host with every one of them; empty: anywhere. */
  runsOn: string[];
  status: InputStatus;
  /** Where this task sits in its input, for error messages (`orders[0].tasks[3]`). */
  place: string;
}

export interface OrderSpec {
  id: string;
  /** Null: keep the order's current title. */
  title: string | null;
  tasks: TaskSpec[];
  /** Null: keep what the order has. */
  allowedTools: string[] | null;
  budgetUsd: number | null;
  /** Null: keep what the order has. */
  preempt: boolean | null;
  place: string;
}

export interface PlanSpec {
  project: string;
  /** Absolute project root. */
  root: string;
  /** Null: keep what the project has. */
  allowedTools: string[] | null;
  orders: OrderSpec[];
}

/**
 * Project, order and task ids: 1-64 of `A-Z a-z 0-9 _ . -`, but not `.` or
 * `..` (ids are path segments of log folders). `idProblem` says why one is bad.
 */
export const ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;
export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * A Claude Code permission rule: a tool name, optionally with a specifier in
 * parentheses (`Bash(npm test *)`, `WebFetch(domain:example.com)`, `mcp__srv__tool`).
 */
export const PERMISSION_RULE = /^[A-Za-z][A-Za-z0-9_-]*(\([^()\n]*(\([^()\n]*\)[^()\n]*)*\))?$/;
export function idProblem(v: unknown, what: string): string | null {
  if (typeof v === "string" && ID_PATTERN.test(v)) return null;
  const json = JSON.stringify(v) ?? String(v);
  const shown = json.length > 60 ? `${json.slice(0, 57)}...` : json;
  if (v === "." || v === "..") return `bad ${what} id ${shown} (. and .. cannot be ids)`;
  return `bad ${what} id ${shown} (expected 1-64 of A-Z a-z 0-9 _ . -)`;
}

/** A command task's spec with every optional field at its default (for tasks made in code, not read from a plan). */
export function commandTaskSpec(t: Pick<TaskSpec, "id" | "command" | "place"> & Partial<TaskSpec>): TaskSpec {
  return {
    title: "",
    priority: "P2",
    deps: [],
    depConditions: new Map(),
    targetFiles: [],
    prompt: null,
    timeoutS: null,
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    model: null,
    review: false,
    allowedTools: [],
    maxTurns: null,
    maxBudgetUsd: null,
    stallWarnS: null,
    stallKillS: null,
    runsOn: [],
    status: "QUEUED",
    ...t,
  };
}
