/**
 * What a launch would do right now: measure the machine (unless told not to),
 * scale the worker count, count the running tasks, and run the detector over
 * the project. `parallel-launch --dry-run` prints this as it is; a real launch
 * claims the `launchable` tasks one by one (each claim re-checks everything
 * inside its own transaction).
 */
import type { ThisHost } from "../config/host.js";
import { agentGate } from "../store/agent-gates.js";
import type { Store } from "../store/open.js";
import { countRunning, getOrder, loadLocks, loadProjectTasks } from "../store/read-project.js";
import { runningOnHost } from "../store/hosts.js";
import { detect, type Detection, type SkipReason } from "../detect/select.js";
import { scaleWorkers, type ScalingDecision } from "../resources/scaling.js";
import { toResourcesJson, type ResourceMonitor, type ResourceSample } from "../resources/monitor.js";
import type { LaunchOptions } from "../config/launch-options.js";
import type { GpuSample } from "../resources/gpu.js";

export interface ResourcesJson {
  monitoring: boolean;
  cpu_percent: number | null;
  memory_percent: number | null;
  healthy: boolean;
  /** NVIDIA GPUs (utilisation, memory): only where there are some. */
  gpus?: GpuSample[];
}

export interface LaunchReport {
  project: string;
  order: string;
  dry_run: boolean;
  max_workers: number;
  effective_workers: number;
  running: number;
  resources: ResourcesJson;
  launchable: Array<{ task: string; priority: string; target_files: string[] }>;
  launched: Array<{ task: string; pid: number; attempt: number; host: string }>;
  skipped: SkipReason[];
  failed: Array<{ task: string; error: string }>;
  /** A database error that stopped the launch part way (what was launched before it is above). */
  error?: string;
}

export interface LaunchPlan {
  report: LaunchReport;
  detection: Detection;
  scaling: ScalingDecision;
}

export interface PlanLaunchInput {
  project: string;
  order: string;
  options: LaunchOptions;
  /** Required when options.monitoring is true. */
  monitor?: ResourceMonitor | undefined;
  dryRun: boolean;
  /** This host: a task whose `runs_on` it does not meet is skipped (`host`). */
  host?: ThisHost | undefined;
}

export async function measure(options: LaunchOptions, monitor: ResourceMonitor | undefined): Promise<ResourceSample | null> {
  if (!options.monitoring || !monitor) return null;
  return monitor.sample();
}

export function scaleFor(options: LaunchOptions, sample: ResourceSample | null): ScalingDecision {
  return scaleWorkers({
    maxWorkers: options.maxWorkers,
    maxCpu: options.maxCpu,
    maxMemory: options.maxMemory,
    cpuPercent: sample?.cpuPercent ?? null,
    memoryPercent: sample?.memoryPercent ?? null,
    autoScaling: options.autoScaling,
  });
}

/** Reads the project and decides; writes nothing. */
export async function planLaunch(store: Store, input: PlanLaunchInput): Promise<LaunchPlan> {
  const order = getOrder(store, input.project, input.order);
  const sample = await measure(input.options, input.monitor);
  const scaling = scaleFor(input.options, sample);
  // With hosts, the slots are per host: this host's attempts in flight.
  const running = input.host ? runningOnHost(store, input.project, input.host.name) : countRunning(store, input.project);
  const detection = detect({
    tasks: loadProjectTasks(store, input.project),
    orderId: input.order,
    paused: order.paused,
    locks: loadLocks(store, input.project),
    freeSlots: scaling.effectiveWorkers - running,
    now: store.now(),
    agentGate: agentGate(store, input.project, input.order),
    host: input.host,
  });
  return {
    detection,
    scaling,
    report: {
      project: input.project,
      order: input.order,
      dry_run: input.dryRun,
      max_workers: input.options.maxWorkers,
      effective_workers: scaling.effectiveWorkers,
      running,
      resources: toResourcesJson(sample, scaling),
      launchable: detection.launchable.map((t) => ({ task: t.id, priority: t.priority, target_files: t.targetFiles })),
      launched: [],
      skipped: detection.skipped,
      failed: [],
    },
  };
}

/** `--summary`: counts per task status (of the order) and per skip reason. */
export function summarize(report: LaunchReport, statusCounts: Record<string, number>) {
  const skipped: Record<string, number> = {};
  for (const s of report.skipped) skipped[s.reason] = (skipped[s.reason] ?? 0) + 1;
  return {
    summary: {
      project: report.project,
      order: report.order,
      dry_run: report.dry_run,
      effective_workers: report.effective_workers,
      running: report.running,
      statuses: statusCounts,
      launchable: report.launchable.length,
      launched: report.launched.length,
      failed: report.failed.length,
      skipped,
    },
  };
}
