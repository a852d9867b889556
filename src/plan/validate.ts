/**
 * Structural validation of a parsed plan: every field's type and range, ids,
 * priorities, command/prompt exclusivity, target paths, duplicates inside the
 * plan. Checks that need the database (unknown dependencies, cycles, tasks
 * that already live in another order) are in ./check-graph.ts.
 *
 * Every problem is collected with its place (`orders[0].tasks[3].priority:
 * ...`) so that one run reports them all.
 */
import { HOST_NAME } from "../config/settings.js";
import { resolve } from "node:path";
import { DEP_CONDITIONS, PRIORITIES, type Priority } from "../store/statuses.js";
import { normalizeTargetPath } from "../paths/target-path.js";
import { FILE_WRITE_TOOLS } from "../agent/permissions.js";
import { MAX_PLAN_DEPTH, valueTooDeep } from "./nesting.js";
import { argProblem, commandProblems } from "./argv-limits.js";
import {
  DEFAULT_MAX_ATTEMPTS,
  ID_PATTERN,
  idProblem,
  PERMISSION_RULE,
  type CommandSpec,
  type InputStatus,
  type OrderSpec,
  type PlanSpec,
  type TaskSpec,
} from "./spec.js";

const TASK_KEYS = new Set([
  "id", "title", "priority", "deps", "target_files", "command", "prompt",
  "timeout_s", "max_attempts", "model", "review", "status",
  "allowed_tools", "max_turns", "max_budget_usd", "stall_warn_s", "stall_kill_s", "runs_on",
]);
const ORDER_KEYS = new Set(["id", "title", "tasks", "allowed_tools", "budget_usd", "preempt"]);
const PLAN_KEYS = new Set(["project", "root", "orders", "allowed_tools"]);

export interface Problems {
  errors: string[];
  warnings: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function checkId(v: unknown, place: string, what: string, p: Problems): string | null {
  const problem = idProblem(v, what);
  if (problem !== null) {
    p.errors.push(`${place}: ${problem}`);
    return null;
  }
  return v as string;
}

function unknownKeys(o: Obj, allowed: Set<string>, place: string, p: Problems): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) p.warnings.push(`${place}: unknown key ${show(k)} ignored`);
  }
}

function optString(o: Obj, key: string, place: string, p: Problems): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") {
    p.errors.push(`${place}.${key}: expected a string, got ${show(v)}`);
    return null;
  }
  return v;
}

function parsePriority(v: unknown, place: string, p: Problems): Priority {
  if (v === undefined || v === null) return "P2";
  if (typeof v === "string" && (PRIORITIES as readonly string[]).includes(v.toUpperCase())) {
    return v.toUpperCase() as Priority;
  }
  p.errors.push(`${place}.priority: bad priority ${show(v)} (expected P0, P1, P2 or P3)`);
  return "P2";
}

function parseStatus(v: unknown, place: string, p: Problems): InputStatus {
  if (v === undefined || v === null) return "QUEUED";
  const s = typeof v === "string" ? v.toUpperCase() : v;
  if (s === "COMPLETED" || s === "DONE") return "DONE";
  if (s === "QUEUED" || s === "FAILED" || s === "CANCELLED") return s;
  p.errors.push(`${place}.status: bad status ${show(v)} (a plan may set QUEUED, DONE, COMPLETED, FAILED or CANCELLED)`);
  return "QUEUED";
}

function parseCommand(v: unknown, place: string, p: Problems): CommandSpec | null {
  if (typeof v === "string") {
    if (v.trim() === "") p.errors.push(`${place}.command: empty command`);
    else p.errors.push(...commandProblems(v, `${place}.command`));
    return v;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) p.errors.push(`${place}.command: empty argv array`);
    else if (v[0] === "") p.errors.push(`${place}.command[0]: empty program name`);
    const before = p.errors.length;
    v.forEach((a, i) => {
      if (typeof a !== "string") p.errors.push(`${place}.command[${i}]: expected a string, got ${show(a)}`);
    });
    if (p.errors.length === before) p.errors.push(...commandProblems(v as string[], `${place}.command`));
    return v.map(String);
  }
  p.errors.push(`${place}.command: expected an argv array or a string, got ${show(v)}`);
  return null;
}

function parseBool(v: unknown, place: string, p: Problems): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "boolean") return v;
  p.errors.push(`${place}: expected true or false, got ${show(v)}`);
  return null;
}

function parseNumber(o: Obj, key: string, place: string, p: Problems, integer: boolean): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    p.errors.push(`${place}.${key}: expected a positive ${integer ? "integer" : "number"}, got ${show(v)}`);
    return null;
  }
  return v;
}

function parseStringList(v: unknown, place: string, p: Problems): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.errors.push(`${place}: expected a list, got ${show(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    if (typeof x === "string") out.push(x);
    else p.errors.push(`${place}[${i}]: expected a string, got ${show(x)}`);
  });
  return out;
}

/**
 * `deps`: each entry a task id (it must end DONE) or `{task: ID, on: success | failure | always}`.
 * The same task twice keeps its first entry.
 */
function parseDeps(v: unknown, place: string, p: Problems): { deps: string[]; conditions: Map<string, "failure" | "always"> } {
  const deps: string[] = [];
  const conditions = new Map<string, "failure" | "always">();
  if (v === undefined || v === null) return { deps, conditions };
  if (!Array.isArray(v)) {
    p.errors.push(`${place}: expected a list, got ${show(v)}`);
    return { deps, conditions };
  }
  v.forEach((entry, i) => {
    const at = `${place}[${i}]`;
    let id: unknown = entry;
    let on: unknown = "success";
    if (isObj(entry)) {
      for (const k of Object.keys(entry)) if (k !== "task" && k !== "on") p.warnings.push(`${at}: unknown key ${show(k)} ignored`);
      id = entry.task;
      on = entry.on ?? "success";
      if (id === undefined) {
        p.errors.push(`${at}: expected {task: ID, on: success | failure | always}, got ${show(entry)}`);
        return;
      }
    } else if (typeof entry !== "string") {
      p.errors.push(`${at}: expected a task id or {task, on}, got ${show(entry)}`);
      return;
    }
    if (typeof on !== "string" || !(DEP_CONDITIONS as readonly string[]).includes(on)) {
      p.errors.push(`${at}.on: unknown condition ${show(on)} (expected success, failure or always)`);
      return;
    }
    if (checkId(id, isObj(entry) ? `${at}.task` : at, "task", p) === null) return;
    const dep = id as string;
    if (deps.includes(dep)) return;
    deps.push(dep);
    if (on !== "success") conditions.set(dep, on as "failure" | "always");
  });
  return { deps, conditions };
}

/** `stall_warn_s`: one number or a list of increasing numbers of seconds; null when absent. */
function parseStages(v: unknown, place: string, p: Problems): number[] | null {
  if (v === undefined || v === null) return null;
  const list = Array.isArray(v) ? v : [v];
  const ok = list.length > 0 && list.every((x, i) => typeof x === "number" && Number.isFinite(x) && x > 0 && (i === 0 || x > (list[i - 1] as number)));
  if (!ok) {
    p.errors.push(`${place}: expected a positive number of seconds or an increasing list of them, got ${show(v)}`);
    return null;
  }
  return list as number[];
}

/** `allowed_tools`: Claude Code permission rules; null when the key is absent. */
export function parseAllowedTools(v: unknown, place: string, p: Problems): string[] | null {
  if (v === undefined || v === null) return null;
  const out: string[] = [];
  parseStringList(v, place, p).forEach((rule, i) => {
    const r = rule.trim();
    const tool = /^[^(]*/.exec(r)![0];
    if (!PERMISSION_RULE.test(r)) {
      p.errors.push(`${place}[${i}]: not a permission rule ${show(rule)} (expected Tool or Tool(specifier), e.g. "Bash(npm test *)")`);
    } else if (FILE_WRITE_TOOLS.includes(tool)) {
      p.errors.push(`${place}[${i}]: ${show(rule)}: files a task may edit are its target_files (they are locked), not allowed_tools`);
    } else if (!out.includes(r)) out.push(r);
  });
  return out;
}

function parseTargets(v: unknown, place: string, p: Problems): string[] {
  const out: string[] = [];
  parseStringList(v, place, p).forEach((raw, i) => {
    const r = normalizeTargetPath(raw);
    if (r.ok) {
      if (!out.includes(r.path)) out.push(r.path);
    } else p.errors.push(`${place}[${i}]: ${r.error}`);
  });
  return out;
}

/** `runs_on`: host labels, each a name as AIPM_HOST_LABELS takes them (letters, digits, `.` `_` `-`, 1-64). */
function parseRunsOn(v: unknown, place: string, p: Problems): string[] {
  const out: string[] = [];
  parseStringList(v, place, p).forEach((label, i) => {
    if (!HOST_NAME.test(label)) p.errors.push(`${place}[${i}]: bad host label ${show(label)} (expected 1-64 of A-Z a-z 0-9 _ . -)`);
    else if (!out.includes(label)) out.push(label);
  });
  return out;
}

function parseModel(raw: Obj, place: string, p: Problems): string | null {
  const model = optString(raw, "model", place, p);
  const problem = model === null ? null : argProblem(model);
  if (problem !== null) p.errors.push(`${place}.model: ${problem}`);
  return model;
}

/** The target files reach every worker as one environment string, AIPM_TARGET_FILES=<JSON>. */
function checkTargetsEnv(targets: string[], place: string, p: Problems): void {
  if (targets.length === 0) return;
  const problem = argProblem(JSON.stringify(targets), "AIPM_TARGET_FILES=".length);
  if (problem !== null) p.errors.push(`${place}: as AIPM_TARGET_FILES, ${problem}`);
}

/** Validates one task object. `place` is e.g. `orders[0].tasks[3]`. */
export function validateTask(raw: unknown, place: string, p: Problems): TaskSpec | null {
  if (!isObj(raw)) {
    p.errors.push(`${place}: expected a task object, got ${show(raw)}`);
    return null;
  }
  unknownKeys(raw, TASK_KEYS, place, p);
  const before = p.errors.length;
  const id = checkId(raw.id, `${place}.id`, "task", p);
  const { deps, conditions: depConditions } = parseDeps(raw.deps, `${place}.deps`, p);
  const hasCommand = raw.command !== undefined && raw.command !== null;
  const hasPrompt = raw.prompt !== undefined && raw.prompt !== null;
  if (hasCommand === hasPrompt) {
    p.errors.push(`${place}: needs exactly one of command or prompt, got ${hasCommand ? "both" : "neither"}`);
  }
  const command = hasCommand ? parseCommand(raw.command, place, p) : null;
  const prompt = hasPrompt ? optString(raw, "prompt", place, p) : null;
  if (prompt !== null && prompt.trim() === "") p.errors.push(`${place}.prompt: empty prompt`);
  if (prompt?.includes("\0")) p.errors.push(`${place}.prompt: contains a NUL byte`);
  let review = hasPrompt;
  if (raw.review !== undefined && raw.review !== null) {
    if (typeof raw.review === "boolean") review = raw.review;
    else p.errors.push(`${place}.review: expected true or false, got ${show(raw.review)}`);
  }
  const spec: TaskSpec = {
    id: id ?? "",
    title: optString(raw, "title", place, p) ?? "",
    priority: parsePriority(raw.priority, place, p),
    deps,
    targetFiles: parseTargets(raw.target_files, `${place}.target_files`, p),
    command,
    prompt,
    timeoutS: parseNumber(raw, "timeout_s", place, p, false),
    maxAttempts: parseNumber(raw, "max_attempts", place, p, true) ?? DEFAULT_MAX_ATTEMPTS,
    model: parseModel(raw, place, p),
    review,
    allowedTools: parseAllowedTools(raw.allowed_tools, `${place}.allowed_tools`, p) ?? [],
    maxTurns: parseNumber(raw, "max_turns", place, p, true),
    maxBudgetUsd: parseNumber(raw, "max_budget_usd", place, p, false),
    depConditions,
    stallWarnS: parseStages(raw.stall_warn_s, `${place}.stall_warn_s`, p),
    stallKillS: parseNumber(raw, "stall_kill_s", place, p, false),
    runsOn: parseRunsOn(raw.runs_on, `${place}.runs_on`, p),
    status: parseStatus(raw.status, place, p),
    place,
  };
  checkTargetsEnv(spec.targetFiles, `${place}.target_files`, p);
  return p.errors.length === before ? spec : null;
}

export interface ValidatedPlan {
  plan: PlanSpec;
  problems: Problems;
}

/**
 * Validates a parsed plan document. `baseDir` is where a relative `root`
 * is resolved from (the plan file's folder, or the cwd for stdin).
 */
export function validatePlan(raw: unknown, baseDir: string): ValidatedPlan {
  const p: Problems = { errors: [], warnings: [] };
  const plan: PlanSpec = { project: "", root: resolve(baseDir), allowedTools: null, orders: [] };
  if (valueTooDeep(raw)) {
    p.errors.push(`plan: nested more than ${MAX_PLAN_DEPTH} levels deep (a plan needs about 7)`);
    return { plan, problems: p };
  }
  if (!isObj(raw)) {
    p.errors.push(`plan: expected a mapping with project and orders, got ${show(raw)}`);
    return { plan, problems: p };
  }
  unknownKeys(raw, PLAN_KEYS, "plan", p);
  plan.project = checkId(raw.project, "project", "project", p) ?? "";
  plan.allowedTools = parseAllowedTools(raw.allowed_tools, "allowed_tools", p);
  const root = optString(raw, "root", "plan", p);
  if (root !== null) {
    if (root.trim() === "") p.errors.push("root: empty path");
    else plan.root = resolve(baseDir, root);
  }
  if (!Array.isArray(raw.orders)) {
    p.errors.push(`orders: expected a list of orders, got ${show(raw.orders)}`);
    return { plan, problems: p };
  }
  const orderIds = new Map<string, string>();
  const taskIds = new Map<string, string>();
  raw.orders.forEach((o, i) => {
    const place = `orders[${i}]`;
    if (!isObj(o)) {
      p.errors.push(`${place}: expected an order object, got ${show(o)}`);
      return;
    }
    unknownKeys(o, ORDER_KEYS, place, p);
    const id = checkId(o.id, `${place}.id`, "order", p);
    if (id !== null) {
      const first = orderIds.get(id);
      if (first) p.errors.push(`${place}.id: duplicate order id ${id} (first at ${first})`);
      else orderIds.set(id, place);
    }
    const order: OrderSpec = {
      id: id ?? "",
      title: optString(o, "title", place, p),
      tasks: [],
      allowedTools: parseAllowedTools(o.allowed_tools, `${place}.allowed_tools`, p),
      budgetUsd: parseNumber(o, "budget_usd", place, p, false),
      preempt: parseBool(o.preempt, `${place}.preempt`, p),
      place,
    };
    if (!Array.isArray(o.tasks)) {
      p.errors.push(`${place}.tasks: expected a list of tasks, got ${show(o.tasks)}`);
    } else {
      o.tasks.forEach((t, j) => {
        const tplace = `${place}.tasks[${j}]`;
        const spec = validateTask(t, tplace, p);
        const tid = isObj(t) && typeof t.id === "string" ? t.id : null;
        if (tid !== null && ID_PATTERN.test(tid)) {
          const first = taskIds.get(tid);
          if (first) p.errors.push(`${tplace}.id: duplicate task id ${tid} (first at ${first})`);
          else taskIds.set(tid, tplace);
        }
        if (spec) order.tasks.push(spec);
      });
    }
    plan.orders.push(order);
  });
  return { plan, problems: p };
}
