/**
 * What a PM agent needs from `status`, not every task: counts, the tasks
 * running now, the failures that need a decision (with the next command),
 * paused orders and usage-limit holds. The MCP `status` tool returns it.
 */
import type { Store } from "../store/open.js";
import { getStatus, type StatusScope } from "./status.js";
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
  const paused = store.sqlite
    .prepare(
      `SELECT project_id || '/' || id FROM orders WHERE paused = 1 AND (@p IS NULL OR project_id = @p) AND (@o IS NULL OR id = @o) ORDER BY 1`,
    )
    .pluck()
    .all({ p: scope.project ?? null, o: scope.order ?? null }) as string[];
  const hold = (
    store.sqlite
      .prepare("SELECT id AS project, agent_hold_until AS until, agent_hold_reason AS reason FROM projects WHERE agent_hold_until > ? AND (@p IS NULL OR id = @p)")
      .all(store.now(), { p: scope.project ?? null }) as Array<{ project: string; until: number; reason: string | null }>
  ).map((h) => ({ ...h, until: new Date(h.until).toISOString() }));
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
