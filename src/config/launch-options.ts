/**
 * The limits a launch runs under, resolved as the contract says: a flag beats
 * the environment, the environment beats the default. Flags arrive already
 * parsed (undefined = not given); environment values are parsed here, and a
 * bad one is a usage error that names the variable.
 *
 * | option          | flag                      | env                               | default |
 * |-----------------|---------------------------|-----------------------------------|---------|
 * | maxWorkers      | --max-workers N           | AIPM_MAX_WORKERS                  | 5       |
 * | maxCpu          | --max-cpu P               | AIPM_MAX_CPU_PERCENT              | 85      |
 * | maxMemory       | --max-memory P            | AIPM_MAX_MEMORY_PERCENT           | 85      |
 * | monitoring      | --no-resource-monitoring  | AIPM_ENABLE_MONITORING=false      | true    |
 * | autoScaling     | --no-auto-scaling         | AIPM_ENABLE_AUTO_SCALING=false    | true    |
 * | model           | --model M                 | AIPM_MODEL                        | null    |
 * | review          | --no-review               | —                                 | true    |
 */
import { usageError } from "../errors.js";

export interface LaunchOptions {
  maxWorkers: number;
  maxCpu: number;
  maxMemory: number;
  monitoring: boolean;
  autoScaling: boolean;
  model: string | null;
  review: boolean;
}

export type LaunchFlags = { [K in keyof LaunchOptions]?: LaunchOptions[K] | undefined };

export const LAUNCH_DEFAULTS: LaunchOptions = {
  maxWorkers: 5,
  maxCpu: 85,
  maxMemory: 85,
  monitoring: true,
  autoScaling: true,
  model: null,
  review: true,
};

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw usageError(`${name}: expected a whole number from ${min} up, got '${raw}'`);
  return n;
}

function envPercent(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw usageError(`${name}: expected a percentage above 0 and up to 100, got '${raw}'`);
  return n;
}

export function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw usageError(`${name}: expected true or false, got '${raw}'`);
}

export function checkMaxWorkers(n: number, source = "--max-workers"): number {
  if (!Number.isInteger(n) || n < 1) throw usageError(`${source}: expected a whole number from 1 up, got ${n}`);
  return n;
}

export function checkPercent(n: number, source: string): number {
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw usageError(`${source}: expected a percentage above 0 and up to 100, got ${n}`);
  return n;
}

export function resolveLaunchOptions(flags: LaunchFlags = {}, env: NodeJS.ProcessEnv = process.env): LaunchOptions {
  const pick = <T>(flag: T | undefined, fromEnv: T | undefined, dflt: T): T =>
    flag !== undefined ? flag : fromEnv !== undefined ? fromEnv : dflt;
  return {
    maxWorkers: checkMaxWorkers(pick(flags.maxWorkers, envInt(env, "AIPM_MAX_WORKERS", 1), LAUNCH_DEFAULTS.maxWorkers)),
    maxCpu: checkPercent(pick(flags.maxCpu, envPercent(env, "AIPM_MAX_CPU_PERCENT"), LAUNCH_DEFAULTS.maxCpu), "--max-cpu"),
    maxMemory: checkPercent(
      pick(flags.maxMemory, envPercent(env, "AIPM_MAX_MEMORY_PERCENT"), LAUNCH_DEFAULTS.maxMemory),
      "--max-memory",
    ),
    monitoring: pick(flags.monitoring, envBool(env, "AIPM_ENABLE_MONITORING"), LAUNCH_DEFAULTS.monitoring),
    autoScaling: pick(flags.autoScaling, envBool(env, "AIPM_ENABLE_AUTO_SCALING"), LAUNCH_DEFAULTS.autoScaling),
    model: pick(flags.model, env.AIPM_MODEL?.trim() || undefined, LAUNCH_DEFAULTS.model),
    review: pick(flags.review, undefined, LAUNCH_DEFAULTS.review),
  };
}
