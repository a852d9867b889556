/**
 * The limit options shared by `parallel-launch`, `wait` and
 * `execute-task --parallel`. No yargs defaults here: an unset flag must stay
 * undefined so that the environment can apply (flag > env > default).
 */
import type { Argv } from "yargs";
import { resolveLaunchOptions, type LaunchOptions } from "../config/launch-options.js";

export interface LaunchFlagArgs {
  maxWorkers?: number | undefined;
  maxCpu?: number | undefined;
  maxMemory?: number | undefined;
  resourceMonitoring?: boolean | undefined;
  autoScaling?: boolean | undefined;
  model?: string | undefined;
  review?: boolean | undefined;
  preempt?: boolean | undefined;
}

/** `maxWorkers`: the --max-workers help where its default differs (enqueue's queue). */
export function withLaunchFlags<T>(y: Argv<T>, describe: { maxWorkers?: string } = {}) {
  return y
    .option("max-workers", { type: "number", describe: describe.maxWorkers ?? "most tasks running at once (default 5, env AIPM_MAX_WORKERS)" })
    .option("max-cpu", { type: "number", describe: "CPU % above which workers scale down (default 85, env AIPM_MAX_CPU_PERCENT)" })
    .option("max-memory", { type: "number", describe: "memory % above which workers scale down (default 85, env AIPM_MAX_MEMORY_PERCENT)" })
    .option("resource-monitoring", { type: "boolean", describe: "measure CPU/memory (--no-resource-monitoring: env AIPM_ENABLE_MONITORING=false)" })
    .option("auto-scaling", { type: "boolean", describe: "scale workers by load (--no-auto-scaling: env AIPM_ENABLE_AUTO_SCALING=false)" })
    .option("model", { type: "string", describe: "model for prompt tasks that name none" })
    .option("review", { type: "boolean", describe: "review prompt tasks before DONE (--no-review to skip)" })
    .option("preempt", { type: "boolean", describe: "a ready task may stop and requeue a lower-priority running one (attempt given back)" });
}

export function launchOptionsFrom(args: LaunchFlagArgs, env: NodeJS.ProcessEnv): LaunchOptions {
  return resolveLaunchOptions(
    {
      maxWorkers: args.maxWorkers,
      maxCpu: args.maxCpu,
      maxMemory: args.maxMemory,
      monitoring: args.resourceMonitoring,
      autoScaling: args.autoScaling,
      model: args.model,
      review: args.review,
      preempt: args.preempt,
    },
    env,
  );
}
