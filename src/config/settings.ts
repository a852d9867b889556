/**
 * Every `AIPM_*` setting aipm reads from the environment, each with its unit
 * and range. `checkSettings` validates all of them when a command starts, so a
 * bad value is exit 2 naming the variable before anything runs; the modules
 * that use a setting read it through `setting()`, the same parser.
 *
 * | variable                  | default       | unit / form                    | range                |
 * |---------------------------|---------------|--------------------------------|----------------------|
 * | AIPM_DB                   | (discovered)  | path                           | a database file      |
 * | AIPM_MAX_WORKERS          | 5             | whole number of tasks          | 1 – 1000             |
 * | AIPM_QUEUE_WORKERS        | 1             | whole number of commands       | 1 – 1000             |
 * | AIPM_MAX_CPU_PERCENT      | 85            | percent                        | > 0 – 100            |
 * | AIPM_MAX_MEMORY_PERCENT   | 85            | percent                        | > 0 – 100            |
 * | AIPM_ENABLE_MONITORING    | true          | boolean (1/0, true/false, ...) |                      |
 * | AIPM_ENABLE_AUTO_SCALING  | true          | boolean                        |                      |
 * | AIPM_RETRY_BACKOFF_S      | 5             | seconds                        | 0 – 86400 (1 day)    |
 * | AIPM_STALL_WARN_S         | 300           | seconds, or stages `300,600`   | 0.01 – 604800 (7 d), increasing |
 * | AIPM_STALL_KILL_S         | 900           | seconds                        | 0.01 – 604800 (7 d)  |
 * | AIPM_KILL_GRACE_S         | 5             | seconds                        | 0 – 3600             |
 * | AIPM_POLL_MS              | 100           | milliseconds                   | 10 – 60000           |
 * | AIPM_RATE_LIMIT_WAIT_S    | 300           | seconds                        | 0 – 86400            |
 * | AIPM_NOTIFY_BACKOFF_S     | 1             | seconds                        | 0 – 3600             |
 * | AIPM_ALARM_AFTER_S        | 60            | seconds                        | 0 – 86400            |
 * | AIPM_LOG_MAX_MB           | 64            | megabytes per attempt's log    | 0.016 – 1048576      |
 * | AIPM_TRANSIENT_MAX_S      | 3600          | seconds                        | 0 – 604800           |
 * | AIPM_TRANSIENT_BACKOFF_MAX_S | 300        | seconds                        | 0.01 – 86400         |
 * | AIPM_RESULT_GRACE_S       | 10            | seconds                        | 0 – 3600             |
 * | AIPM_AGENT_API_TIMEOUT_S  | 300           | seconds                        | 1 – 86400            |
 * | AIPM_SCOPE                | warn          | warn, fail or off              |                      |
 * | AIPM_MODEL                | (none)        | model name                     | no NUL byte          |
 * | AIPM_AGENT_CMD            | Claude Code   | JSON argv template             | non-empty program    |
 * | AIPM_REVIEW_CMD           | Claude review | JSON argv template             | non-empty program    |
 * | AIPM_NOTIFY_CMD           | (none)        | JSON argv template             | non-empty program    |
 * | AIPM_PUSHOVER_TOKEN/_USER | (none)        | text (both or neither)         |                      |
 * | AIPM_PUSHOVER_URL         | Pushover's    | http(s) URL                    |                      |
 * | AIPM_WEBHOOK_URL          | (none)        | http(s) URL                    |                      |
 * | AIPM_DASHBOARD_TOKEN      | (none)        | text                           |                      |
 * | AIPM_DEBUG                | (off)         | `1`: stack traces              |                      |
 * | AIPM_LOOP_STATS           | (off)         | path: a supervisor's own figures appended at its end |  |
 * | AIPM_HOST                 | the hostname  | name: letters, digits, `.` `_` `-` | 1 – 64 characters |
 * | AIPM_HOST_LABELS          | (none)        | names separated by commas      | each as AIPM_HOST    |
 * | AIPM_HOST_LEASE_S         | 60            | seconds: a host silent this long is dead | 1 – 86400  |
 * | AIPM_GIT_SYNC             | auto          | auto, on or off                |                      |
 * | AIPM_GIT_REMOTE           | origin        | a git remote's name            | letters, digits, `. _ / -`; not `-` first |
 *
 * An empty value counts as unset. Numbers are decimal (`1e3` is read as 1000,
 * then range-checked). The variables aipm *sets* for a worker (AIPM_PROJECT,
 * AIPM_TASK, ...) are not settings and are not read here.
 */
import { usageError } from "../errors.js";

type NumberSpec = { kind: "number"; unit: string; min: number; max: number; integer?: boolean; dflt: number };
type BoolSpec = { kind: "bool"; dflt: boolean };
type EnumSpec = { kind: "enum"; values: readonly string[]; dflt: string };
type ArgvSpec = { kind: "argv" };
type TextSpec = { kind: "text" };
type UrlSpec = { kind: "url" };
type StagesSpec = { kind: "stages"; unit: string; min: number; max: number; dflt: readonly number[] };
type NameSpec = { kind: "name" };
type NamesSpec = { kind: "names" };
type RemoteSpec = { kind: "remote" };
type Spec = NumberSpec | BoolSpec | EnumSpec | ArgvSpec | TextSpec | UrlSpec | StagesSpec | NameSpec | NamesSpec | RemoteSpec;

const seconds = (min: number, max: number, dflt: number): NumberSpec => ({ kind: "number", unit: "seconds", min, max, dflt });

export const SETTINGS = {
  AIPM_MAX_WORKERS: { kind: "number", unit: "tasks", min: 1, max: 1000, integer: true, dflt: 5 },
  AIPM_QUEUE_WORKERS: { kind: "number", unit: "commands", min: 1, max: 1000, integer: true, dflt: 1 },
  AIPM_MAX_CPU_PERCENT: { kind: "number", unit: "percent", min: Number.MIN_VALUE, max: 100, dflt: 85 },
  AIPM_MAX_MEMORY_PERCENT: { kind: "number", unit: "percent", min: Number.MIN_VALUE, max: 100, dflt: 85 },
  AIPM_ENABLE_MONITORING: { kind: "bool", dflt: true },
  AIPM_ENABLE_AUTO_SCALING: { kind: "bool", dflt: true },
  AIPM_RETRY_BACKOFF_S: seconds(0, 86_400, 5),
  AIPM_STALL_WARN_S: { kind: "stages", unit: "seconds", min: 0.01, max: 604_800, dflt: [300] },
  AIPM_STALL_KILL_S: seconds(0.01, 604_800, 900),
  AIPM_KILL_GRACE_S: seconds(0, 3600, 5),
  AIPM_POLL_MS: { kind: "number", unit: "milliseconds", min: 10, max: 60_000, dflt: 100 },
  AIPM_RATE_LIMIT_WAIT_S: seconds(0, 86_400, 300),
  AIPM_NOTIFY_BACKOFF_S: seconds(0, 3600, 1),
  AIPM_ALARM_AFTER_S: seconds(0, 86_400, 60),
  AIPM_LOG_MAX_MB: { kind: "number", unit: "megabytes", min: 0.016, max: 1_048_576, dflt: 64 },
  AIPM_TRANSIENT_MAX_S: seconds(0, 604_800, 3600),
  AIPM_TRANSIENT_BACKOFF_MAX_S: seconds(0.01, 86_400, 300),
  AIPM_RESULT_GRACE_S: seconds(0, 3600, 10),
  AIPM_AGENT_API_TIMEOUT_S: seconds(1, 86_400, 300),
  AIPM_SCOPE: { kind: "enum", values: ["warn", "fail", "off"], dflt: "warn" },
  AIPM_MODEL: { kind: "text" },
  AIPM_AGENT_CMD: { kind: "argv" },
  AIPM_REVIEW_CMD: { kind: "argv" },
  AIPM_NOTIFY_CMD: { kind: "argv" },
  AIPM_PUSHOVER_TOKEN: { kind: "text" },
  AIPM_PUSHOVER_USER: { kind: "text" },
  AIPM_PUSHOVER_URL: { kind: "url" },
  AIPM_WEBHOOK_URL: { kind: "url" },
  AIPM_DASHBOARD_TOKEN: { kind: "text" },
  AIPM_LOOP_STATS: { kind: "text" },
  AIPM_HOST: { kind: "name" },
  AIPM_HOST_LABELS: { kind: "names" },
  AIPM_HOST_LEASE_S: seconds(1, 86_400, 60),
  AIPM_GIT_SYNC: { kind: "enum", values: ["auto", "on", "off"], dflt: "auto" },
  AIPM_GIT_REMOTE: { kind: "remote" },
} as const satisfies Record<string, Spec>;

export type SettingName = keyof typeof SETTINGS;
type NumberName = { [K in SettingName]: (typeof SETTINGS)[K] extends NumberSpec ? K : never }[SettingName];
type BoolName = { [K in SettingName]: (typeof SETTINGS)[K] extends BoolSpec ? K : never }[SettingName];

function raw(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v;
}

const fmt = (n: number) => (n === Number.MIN_VALUE ? "above 0" : String(n));

/** A number setting, range-checked; undefined when unset. */
export function envNumber(env: NodeJS.ProcessEnv, name: NumberName): number | undefined {
  const s: NumberSpec = SETTINGS[name];
  const v = raw(env, name);
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  const range = s.min === Number.MIN_VALUE ? `above 0 and up to ${s.max}` : `from ${fmt(s.min)} to ${s.max}`;
  if (!Number.isFinite(n) || n < s.min || n > s.max || (s.integer && !Number.isInteger(n))) {
    throw usageError(`${name}: expected ${s.integer ? "a whole number of" : "a number of"} ${s.unit} ${range}, got '${v}'`);
  }
  return n;
}

/** A list of increasing numbers (`300,600`: warning stages), or its default. */
export function stagesSetting(env: NodeJS.ProcessEnv, name: "AIPM_STALL_WARN_S"): number[] {
  const s: StagesSpec = SETTINGS[name];
  const v = raw(env, name);
  if (v === undefined) return [...s.dflt];
  const list = v.split(",").map((x) => Number(x.trim()));
  const ok = list.every((n, i) => Number.isFinite(n) && n >= s.min && n <= s.max && (i === 0 || n > list[i - 1]!));
  if (!ok) throw usageError(`${name}: expected a number of ${s.unit} from ${s.min} to ${s.max}, or increasing ones separated by commas (300,600), got '${v}'`);
  return list;
}

/** A number setting, or its default. */
export function numberSetting(env: NodeJS.ProcessEnv, name: NumberName): number {
  return envNumber(env, name) ?? SETTINGS[name].dflt;
}

/** A boolean setting; undefined when unset. */
export function envBool(env: NodeJS.ProcessEnv, name: BoolName): boolean | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw usageError(`${name}: expected true or false, got '${v}'`);
}

/** AIPM_SCOPE. */
export function scopeSetting(env: NodeJS.ProcessEnv): "warn" | "fail" | "off" {
  const v = raw(env, "AIPM_SCOPE");
  if (v === undefined) return "warn";
  const t = v.trim().toLowerCase();
  if (t === "warn" || t === "fail" || t === "off") return t;
  throw usageError(`AIPM_SCOPE: expected warn, fail or off, got '${v}'`);
}

/** AIPM_GIT_SYNC: whether a task's edits travel through the order's git branch (docs/hosts.md, "Edits across hosts"). */
export function gitSyncSetting(env: NodeJS.ProcessEnv): "auto" | "on" | "off" {
  const v = raw(env, "AIPM_GIT_SYNC");
  if (v === undefined) return "auto";
  const t = v.trim().toLowerCase();
  if (t === "auto" || t === "on" || t === "off") return t;
  throw usageError(`AIPM_GIT_SYNC: expected auto, on or off, got '${v.slice(0, 80)}'`);
}

/** AIPM_GIT_REMOTE: the remote git sync fetches from and pushes to (default `origin`). */
export function gitRemoteSetting(env: NodeJS.ProcessEnv): string {
  const v = raw(env, "AIPM_GIT_REMOTE")?.trim();
  if (v === undefined) return "origin";
  if (!/^[A-Za-z0-9._/][A-Za-z0-9._/-]{0,99}$/.test(v) || v.includes("..")) {
    throw usageError(`AIPM_GIT_REMOTE: expected a git remote's name (letters, digits, '.', '_', '/', '-'; not '-' first), got '${v.slice(0, 80)}'`);
  }
  return v;
}

/** A JSON argv template (`["claude","-p"]`): a non-empty array of strings whose program is not empty, no NUL byte. */
export function argvSetting(env: NodeJS.ProcessEnv, name: "AIPM_AGENT_CMD" | "AIPM_REVIEW_CMD" | "AIPM_NOTIFY_CMD"): string[] | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw usageError(`${name}: expected a JSON argv array such as ["claude","-p"], got '${v.slice(0, 60)}'`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a) => typeof a === "string")) {
    throw usageError(`${name}: expected a non-empty JSON array of strings`);
  }
  if (parsed[0]!.trim() === "") throw usageError(`${name}: the program (first element) is empty`);
  if (parsed.some((a: string) => a.includes("\0"))) throw usageError(`${name}: an argument contains a NUL byte`);
  return parsed as string[];
}

/** An http(s) URL setting; undefined when unset. */
export function urlSetting(env: NodeJS.ProcessEnv, name: "AIPM_PUSHOVER_URL" | "AIPM_WEBHOOK_URL"): string | undefined {
  const v = raw(env, name)?.trim();
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol === "http:" || u.protocol === "https:") return v;
  } catch {
    /* reported below */
  }
  throw usageError(`${name}: expected an http(s) URL, got '${v}'`);
}

/** A host or label name: letters, digits, `.`, `_`, `-`; 1 to 64 characters. */
export const HOST_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** AIPM_HOST, checked; undefined when unset (the caller's default is the hostname, see ./host.ts). */
export function hostSetting(env: NodeJS.ProcessEnv): string | undefined {
  const v = raw(env, "AIPM_HOST")?.trim();
  if (v === undefined) return undefined;
  if (!HOST_NAME.test(v)) throw usageError(`AIPM_HOST: expected a name of letters, digits, '.', '_' or '-' (at most 64), got '${v.slice(0, 80)}'`);
  return v;
}

/** AIPM_HOST_LABELS: names separated by commas (`gpu,big`), each checked; [] when unset. */
export function hostLabelsSetting(env: NodeJS.ProcessEnv): string[] {
  const v = raw(env, "AIPM_HOST_LABELS");
  if (v === undefined) return [];
  const labels = v.split(",").map((x) => x.trim());
  const bad = labels.find((l) => !HOST_NAME.test(l));
  if (bad !== undefined) {
    throw usageError(`AIPM_HOST_LABELS: expected names of letters, digits, '.', '_' or '-' (at most 64) separated by commas, got '${v.slice(0, 80)}'`);
  }
  return [...new Set(labels)];
}

/** Validates every AIPM_* setting that is set; throws a usage error naming the first bad one. */
export function checkSettings(env: NodeJS.ProcessEnv): void {
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, Spec]>) {
    const v = raw(env, name);
    if (v === undefined) continue;
    switch (spec.kind) {
      case "number":
        envNumber(env, name as NumberName);
        break;
      case "stages":
        stagesSetting(env, name as "AIPM_STALL_WARN_S");
        break;
      case "bool":
        envBool(env, name as BoolName);
        break;
      case "enum":
        if (name === "AIPM_GIT_SYNC") gitSyncSetting(env);
        else scopeSetting(env);
        break;
      case "remote":
        gitRemoteSetting(env);
        break;
      case "argv":
        argvSetting(env, name as "AIPM_AGENT_CMD");
        break;
      case "url":
        urlSetting(env, name as "AIPM_WEBHOOK_URL");
        break;
      case "text":
        if (v.includes("\0")) throw usageError(`${name}: contains a NUL byte`);
        break;
      case "name":
        hostSetting(env);
        break;
      case "names":
        hostLabelsSetting(env);
        break;
    }
  }
  const token = raw(env, "AIPM_PUSHOVER_TOKEN");
  const user = raw(env, "AIPM_PUSHOVER_USER");
  if ((token === undefined) !== (user === undefined)) throw usageError("Pushover needs both AIPM_PUSHOVER_TOKEN and AIPM_PUSHOVER_USER");
}
