/**
 * Why a QUEUED task waits, in a few words: the detector's skip reason as the
 * terminal (`aipm status`) and the dashboard say it. One wording; each view
 * says times and long lists its own way.
 */
import { hostNeedText } from "../detect/host-need.js";
import type { SkipReason } from "../detect/select.js";

export interface ReasonStyle {
  /** The words after "retry backoff" / "agent tasks wait" for a time (`, in 30s`, ` until 12:00:05`). */
  until(iso: string): string;
  /** A list of task ids (all of them, or the first few). */
  list(ids: readonly string[]): string;
}

export function reasonWords(w: SkipReason, s: ReasonStyle): string {
  switch (w.reason) {
    case "dependency":
      return `waiting for ${s.list(w.waiting_for)}`;
    case "file_conflict":
      return `${w.file} is held by ${w.held_by}`;
    case "blocked":
      return `blocked: dependency ${w.failed_dependency} failed`;
    case "backoff":
      return `retry backoff${s.until(w.retry_at)}`;
    case "capacity":
      return "no free worker slot";
    case "paused":
      return "order is paused";
    case "host":
      return hostNeedText(w);
    case "rate_limit":
      return `usage limit: agent tasks wait${s.until(w.retry_at)}`;
    case "budget":
      return `order budget reached ($${w.spent_usd} of $${w.budget_usd})`;
  }
}
