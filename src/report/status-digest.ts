/**
 * What a PM agent needs from `status`, not every task: counts, the tasks
 * running now, the failures that need a decision (with the next command),
 * paused orders and usage-limit holds. The MCP `status` tool returns it.
 */
import type { Store } from "../store/open.js";
import { getStatus, type StatusScope } from "./status.js";
import { pausedOrders } from "../store/orders.js";
import { agentHolds } from "../store/projects.js";
import { nextStep, oneLine } from "./next-step.js";

export interface StatusDigest {
  counts: Record<string, number>;
  running: string[];
  failed: Array<{ task: string; failure_kind: string | null; error: string | null; attempts: number; next: string }>;
  paused?: string[];
  hold?: Array<{ project: string; until: string; reason: string | null }>;
}

export function statusDigest(store: Store, scope: StatusScope = {}): StatusDigest {
  const s = getStatus(store, scope);
  const many = new Set(s.tasks.map((t) => t.project)).size > 1;
  const id = (t: { project: string; task: string }) => (many ? `${t.project}/${t.task}` : t.task);
  const paused = pausedOrders(store, scope);
  const hold = agentHolds(store, store.now(), scope.project).map((h) => ({ ...h, until: new Date(h.until).toISOString() }));
  return {
    counts: Object.fromEntries(Object.entries(s.counts).filter(([, n]) => n > 0)),
    running: s.workers.map(id),
    failed: s.tasks
      .filter((t) => t.status === "FAILED")
      .map((t) => ({ task: id(t), failure_kind: t.failure_kind, error: oneLine(t.error), attempts: t.attempt, next: nextStep(t.task, t.failure_kind) })),
    ...(paused.length ? { paused } : {}),
    ...(hold.length ? { hold } : {}),
  };
}
