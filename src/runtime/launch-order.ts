/**
 * `parallel-launch` as a library call: record what became of abandoned
 * attempts, decide (the detector), and — unless it is a dry run — mark the
 * order active under these limits and launch each selected task (claim,
 * start, or record its start failure). Returns the contract's report and the
 * workers it started, for the caller to supervise or hand over — also when a
 * database error stops it part way (`report.error`).
 */
import { thisHost, type ThisHost } from "../config/host.js";
import { resolveRuntimeOptions } from "../config/runtime-options.js";
import type { Store } from "../store/open.js";
import { activateOrder as markOrderActive, orderLaunchOptions } from "../store/orders.js";
import { planLaunch, type LaunchReport } from "../launch/plan-launch.js";
import type { LaunchOptions } from "../config/launch-options.js";
import type { ResourceMonitor } from "../resources/monitor.js";
import type { SkipReason } from "../detect/select.js";
import type { ClaimRefusal } from "../store/transitions.js";
import { hostOfEnv, recover } from "./in-flight.js";
import { completeLaunch, failLaunch, launchedFrom, prepareLaunch, type LaunchedTask } from "./launch-task.js";
import { spawnPrepared, type SpawnedWorker } from "./spawn-worker.js";
import { describeDbError, isDbError } from "../store/db-errors.js";
import { appendEvent } from "../store/events.js";
import { GitSync } from "../git-sync/git-sync.js";
import { hostForProject, syncWanted } from "../git-sync/root-need.js";

export interface LaunchOrderInput {
  project: string;
  order: string;
  options: LaunchOptions;
  backoffS: number;
  env: NodeJS.ProcessEnv;
  monitor?: ResourceMonitor | undefined;
  dryRun: boolean;
}

export interface LaunchOrderResult {
  report: LaunchReport;
  launched: LaunchedTask[];
}

function refusalToSkip(task: string, r: ClaimRefusal, host: ThisHost): SkipReason | null {
  switch (r.reason) {
    case "capacity":
      return { task, reason: "capacity" };
    case "paused":
      return { task, reason: "paused" };
    case "host":
      return { task, reason: "host", runs_on: r.runs_on, host: host.name, host_labels: [...host.labels] };
    case "dependency":
      return { task, reason: "dependency", waiting_for: r.waiting_for };
    case "backoff":
      return { task, reason: "backoff", retry_at: new Date(r.retry_at).toISOString() };
    case "rate_limit":
      return { task, reason: "rate_limit", retry_at: new Date(r.retry_at).toISOString() };
    case "budget":
      return { task, reason: "budget", budget_usd: r.budget_usd, spent_usd: Math.round(r.spent_usd * 1e4) / 1e4 };
    case "file_conflict":
      return { task, reason: "file_conflict", file: r.file, held_by: r.held_by };
    default:
      return null; // taken by another launcher meanwhile: not ours to report
  }
}

/**
 * The worker limit `aipm scale` set on an order stays until a launch names
 * another (`--max-workers`): a launch without that flag runs under it, and
 * keeps it stored (`scaled`).
 */
export function withScale(store: Store, project: string, order: string, options: LaunchOptions, maxWorkersGiven: boolean): LaunchOptions {
  if (maxWorkersGiven) return options;
  const raw = orderLaunchOptions(store, project, order);
  if (!raw) return options;
  const stored = JSON.parse(raw) as Partial<LaunchOptions> & { scaled?: boolean };
  return stored.scaled && typeof stored.maxWorkers === "number" ? ({ ...options, maxWorkers: stored.maxWorkers, scaled: true } as LaunchOptions) : options;
}

export function activateOrder(store: Store, project: string, order: string, options: LaunchOptions): void {
  markOrderActive(store, project, order, JSON.stringify(options));
}

/** Git sync (src/git-sync/): whether the order's branch is ready for its tasks to launch (true when sync is off). */
async function branchReady(store: Store, input: LaunchOrderInput, host: ThisHost): Promise<boolean> {
  if (input.dryRun) return true;
  const sync = GitSync.forProject(store, input.project, host, input.env);
  const r = sync ? await sync.beforeLaunch(input.order) : null;
  if (r === null || r.ok) return true;
  appendEvent(store, { kind: "git_sync_waiting", projectId: input.project, orderId: input.order, data: { reason: "wait" in r ? r.wait : r.error } }, store.now());
  return false;
}

export async function launchOrder(store: Store, input: LaunchOrderInput): Promise<LaunchOrderResult> {
  const host = thisHost(input.env);
  if (!input.dryRun) {
    const rateLimitWaitS = resolveRuntimeOptions(input.env).rateLimitWaitS;
    recover(store, { project: input.project, backoffS: input.backoffS, rateLimitWaitS, ...hostOfEnv(input.env), gitSync: syncWanted(host, store.path) });
  }
  const plan = await planLaunch(store, {
    host: hostForProject(store, host, input.project),
    project: input.project,
    order: input.order,
    options: input.options,
    monitor: input.monitor,
    dryRun: input.dryRun,
  });
  const { report } = plan;
  const launched: LaunchedTask[] = [];
  if (input.dryRun) return { report, launched };
  activateOrder(store, input.project, input.order, input.options);
  const lateSkips: SkipReason[] = [];
  // Git sync: the order's branch at the remote's tip first; not ready, the supervisor launches them once it is.
  const launchable = (await branchReady(store, input, host)) ? plan.detection.launchable : [];
  for (const t of launchable) {
    try {
      const r = prepareLaunch(store, {
        project: input.project,
        task: t.id,
        effectiveWorkers: plan.scaling.effectiveWorkers,
        model: input.options.model,
        review: input.options.review,
        env: input.env,
      });
      if (!r.ok) {
        if ("error" in r) report.failed.push({ task: t.id, error: r.error });
        else {
          const skip = refusalToSkip(t.id, r.refused, host);
          if (skip) lateSkips.push(skip);
        }
        continue;
      }
      let worker: SpawnedWorker;
      try {
        worker = spawnPrepared(r.prepared.spawn, input.env);
      } catch (err) {
        report.failed.push({ task: t.id, error: failLaunch(store, r.prepared, err).error });
        continue;
      }
      // Started: reported whatever happens to the database next.
      const l = launchedFrom(r.prepared, worker);
      launched.push(l);
      report.launched.push({ task: l.task, pid: worker.pid, attempt: l.attempt, host: l.host });
      completeLaunch(store, r.prepared, worker);
    } catch (err) {
      // A full disk, an I/O error, a lock held too long: stop here and report what was started
      // (a worker whose pid was not recorded is found by the next recovery).
      if (!isDbError(err)) throw err;
      report.error = describeDbError(err, store.path);
      break;
    }
  }
  report.skipped.push(...lateSkips);
  return { report, launched };
}
