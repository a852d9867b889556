/**
 * Which events are worth a message, and the message: title, text, priority
 * and the key that makes it unique. Notified:
 *
 * | event                        | when                                  | priority |
 * |------------------------------|---------------------------------------|----------|
 * | task_failed                  | a task's final failure (gpu_error too) | 1       |
 * | task_retry, kind `crashed`   | a worker crashed (it is retried)       | 1       |
 * | task_stall_warning           | no output for AIPM_STALL_WARN_S        | 0       |
 * | task_stall_killed            | killed for silence                     | 1       |
 * | resource_alarm               | CPU/memory over the limit too long     | 1       |
 * | resource_recovered           | back under it                          | 0       |
 * | order_finished / order_idle  | an order's end                         | 0 (1 with failures) |
 * | project_rate_limited         | a usage limit holds the project's agent tasks | 1 |
 * | order_budget_reached         | an order's spent cost reached its budget_usd | 1 |
 *
 * The key of a task's failure is `<kind>:<project>/<task>#<attempt>`: the
 * same failure is sent once, whichever process or event reports it.
 */
import type { StoredEvent } from "../store/events.js";

/** An event as the store returns it. */
export type EventRow = StoredEvent;

export interface Notification {
  eventId: number;
  dedupeKey: string;
  title: string;
  message: string;
  priority: 0 | 1;
  /** What the webhook and the command hook receive. */
  event: Record<string, unknown>;
}

export const NOTIFIED_KINDS = [
  "task_failed",
  "task_retry",
  "task_stall_warning",
  "task_stall_killed",
  "resource_alarm",
  "resource_recovered",
  "order_finished",
  "order_idle",
  "project_rate_limited",
  "order_budget_reached",
] as const;

function where(e: EventRow): string {
  return [e.project_id, e.order_id].filter(Boolean).join("/");
}

export function toNotification(e: EventRow): Notification | null {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(e.data) as Record<string, unknown>;
  } catch {
    data = {};
  }
  const task = e.task_id ?? "?";
  const at = where(e);
  const taskKey = (kind: string) => `${kind}:${e.project_id}/${task}#${e.attempt ?? 0}`;
  const error = typeof data.error === "string" ? data.error : "";
  const failureKind = typeof data.failure_kind === "string" ? data.failure_kind : null;
  let n: Omit<Notification, "eventId" | "event"> | null = null;
  switch (e.kind) {
    case "task_failed":
      n = {
        dedupeKey: taskKey(`failed_${failureKind ?? "error"}`),
        title: `${failureKind === "gpu_error" ? "GPU failure" : "Task failed"}: ${task} (${at})`,
        message: `${task} failed after attempt ${e.attempt ?? "?"}${failureKind ? ` [${failureKind}]` : ""}: ${error || "no detail"}`,
        priority: 1,
      };
      break;
    case "task_retry":
      if (failureKind !== "crashed") return null;
      n = {
        dedupeKey: taskKey("crashed"),
        title: `Worker crashed: ${task} (${at})`,
        message: `${task} attempt ${e.attempt ?? "?"}: ${error || "the worker vanished"}; it will be retried`,
        priority: 1,
      };
      break;
    case "task_stall_warning":
      n = {
        // One message per stage of an attempt: a warning at 5 min and another at 10 are both sent, each once.
        dedupeKey: taskKey(`stall_warning_${typeof data.stage === "number" ? data.stage : 1}`),
        title: `Task silent: ${task} (${at})`,
        message: `${task} attempt ${e.attempt ?? "?"} has written nothing for ${data.silent_s ?? "?"}s${typeof data.stage === "number" && typeof data.stages === "number" && data.stages > 1 ? ` (warning ${data.stage} of ${data.stages})` : ""}`,
        priority: 0,
      };
      break;
    case "task_stall_killed":
      n = {
        dedupeKey: taskKey("stall_killed"),
        title: `Task killed for silence: ${task} (${at})`,
        message: `${task} attempt ${e.attempt ?? "?"} wrote nothing for ${data.silent_s ?? "?"}s and was killed`,
        priority: 1,
      };
      break;
    case "resource_alarm":
    case "resource_recovered": {
      const alarm = e.kind === "resource_alarm";
      n = {
        dedupeKey: `event:${e.id}`,
        title: alarm ? "Resources over the limit" : "Resources back to normal",
        message: `cpu ${data.cpu_percent ?? "?"}% (limit ${data.max_cpu ?? "?"}%), memory ${data.memory_percent ?? "?"}% (limit ${data.max_memory ?? "?"}%)${alarm ? ` for ${data.over_s ?? "?"}s` : ""}`,
        priority: alarm ? 1 : 0,
      };
      break;
    }
    case "project_rate_limited":
      n = {
        dedupeKey: `event:${e.id}`,
        title: `Usage limit: ${e.project_id ?? "?"} agents wait`,
        message: `Agent tasks of ${e.project_id ?? "?"} wait until ${String(data.until ?? "?")} (seen by ${task}): ${error}`,
        priority: 1,
      };
      break;
    case "order_budget_reached":
      n = {
        dedupeKey: `budget:${e.project_id}/${e.order_id}@${String(data.budget_usd ?? "?")}`,
        title: `Budget reached: ${at}`,
        message: `${at} has spent $${String(data.spent_usd ?? "?")} of its $${String(data.budget_usd ?? "?")} budget: no new agent task of it launches`,
        priority: 1,
      };
      break;
    case "order_finished":
    case "order_idle": {
      const counts = (data.counts ?? {}) as Record<string, number>;
      const bad = (counts.FAILED ?? 0) + (counts.CANCELLED ?? 0);
      const list = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ");
      n = {
        dedupeKey: `event:${e.id}`,
        title: `Order ${e.kind === "order_finished" && bad === 0 ? "done" : "ended with problems"}: ${at}`,
        message: list || "no tasks",
        priority: bad > 0 ? 1 : 0,
      };
      break;
    }
    default:
      return null;
  }
  return {
    ...n,
    eventId: e.id,
    event: {
      id: e.id,
      kind: e.kind,
      ts: new Date(e.ts).toISOString(),
      project: e.project_id,
      order: e.order_id,
      task: e.task_id,
      attempt: e.attempt,
      data,
      title: n.title,
      message: n.message,
      priority: n.priority,
    },
  };
}

/** What `aipm notify test` sends (not from the event log: it is never sent again). */
export function testNotification(now: number): Notification {
  const title = "aipm test notification";
  const message = "aipm can reach you here. Failures, stalls, resource alarms and order ends will come this way.";
  return {
    eventId: 0,
    dedupeKey: `test:${now}`,
    title,
    message,
    priority: 0,
    event: { id: 0, kind: "notify_test", ts: new Date(now).toISOString(), project: null, order: null, task: null, attempt: null, data: {}, title, message, priority: 0 },
  };
}
