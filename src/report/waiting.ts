/**
 * Why each QUEUED task of an order waits, as `parallel-launch --dry-run`
 * would say it (the detector's skip reason), with the order's stored worker
 * limit and no resource sampling. Shared by `status` (`waiting`) and
 * `explain`. A task absent from the map would launch now.
 */
import { thisHost, type ThisHost } from "../config/host.js";
import type { Store } from "../store/open.js";
import { orderLaunchState } from "../store/orders.js";
import { loadLocks, type TaskNode } from "../store/read-project.js";
import { detect, findBlocked, type SkipReason } from "../detect/select.js";
import { agentGate } from "../store/agent-gates.js";
import { runningOnHost } from "../store/hosts.js";
import { hostForProject } from "../git-sync/root-need.js";
import { LAUNCH_DEFAULTS, type LaunchOptions } from "../config/launch-options.js";

export function waitingReasons(
  store: Store,
  project: string,
  order: string,
  tasks: ReadonlyMap<string, TaskNode>,
  host: ThisHost = thisHost(process.env),
): Map<string, SkipReason> {
  const o = orderLaunchState(store, project, order);
  const options: LaunchOptions = o?.launch_options ? { ...LAUNCH_DEFAULTS, ...(JSON.parse(o.launch_options) as Partial<LaunchOptions>) } : LAUNCH_DEFAULTS;
  // The slots are per host: this host's attempts in flight.
  const running = runningOnHost(store, project, host.name);
  const d = detect({
    tasks,
    orderId: order,
    paused: Boolean(o?.paused),
    locks: loadLocks(store, project),
    freeSlots: options.maxWorkers - running,
    now: store.now(),
    blocked: findBlocked(tasks),
    agentGate: agentGate(store, project, order),
    host: hostForProject(store, host, project),
  });
  const out = new Map<string, SkipReason>();
  for (const s of d.skipped) out.set(s.task, s);
  return out;
}
