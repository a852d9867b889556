/**
 * The limits a launch runs under, resolved as the contract says: a flag beats
 * the environment, the environment beats the default. Flags arrive already
 * parsed (undefined = not given); environment values are parsed by
 * ./settings.ts (units and ranges), and a bad one is a usage error that names
 * the variable.
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
 * | preempt         | --preempt                 | —                                 | false   | (or the order's `preempt: true`)
 */
import { usageError } from "../errors.js";
import { envBool, envNumber } from "./settings.js";

export interface LaunchOptions {
  maxWorkers: number;
  maxCpu: number;
  maxMemory: number;
  monitoring: boolean;
  autoScaling: boolean;
  model: string | null;
  review: boolean;
  /** A ready task may stop and requeue a lower-priority running one (see src/runtime/preemption.ts). */
  preempt: boolean;
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
  preempt: false,
};

export { envBool };

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
    maxWorkers: checkMaxWorkers(pick(flags.maxWorkers, envNumber(env, "AIPM_MAX_WORKERS"), LAUNCH_DEFAULTS.maxWorkers)),
    maxCpu: checkPercent(pick(flags.maxCpu, envNumber(env, "AIPM_MAX_CPU_PERCENT"), LAUNCH_DEFAULTS.maxCpu), "--max-cpu"),
    maxMemory: checkPercent(
      pick(flags.maxMemory, envNumber(env, "AIPM_MAX_MEMORY_PERCENT"), LAUNCH_DEFAULTS.maxMemory),
      "--max-memory",
    ),
    monitoring: pick(flags.monitoring, envBool(env, "AIPM_ENABLE_MONITORING"), LAUNCH_DEFAULTS.monitoring),
    autoScaling: pick(flags.autoScaling, envBool(env, "AIPM_ENABLE_AUTO_SCALING"), LAUNCH_DEFAULTS.autoScaling),
    model: pick(flags.model, env.AIPM_MODEL?.trim() || undefined, LAUNCH_DEFAULTS.model),
    review: pick(flags.review, undefined, LAUNCH_DEFAULTS.review),
    preempt: pick(flags.preempt, undefined, LAUNCH_DEFAULTS.preempt),
  };
}
