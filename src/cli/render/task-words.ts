/** How one task's state reads in `aipm status` (short view and `--all`): attempts, progress, why it waits, colour per status. */
import { reasonWords } from "../../report/reason-words.js";
import type { TaskStatusJson } from "../../report/status.js";
import type { SkipReason } from "../../detect/select.js";
import { when, type Style } from "./style.js";

export { attemptText } from "../../report/attempt-text.js";

/** `3/10 img_0003.png`, or "". */
export function progressText(p: TaskStatusJson["progress"]): string {
  if (!p) return "";
  return `${p.done}/${p.total}${p.label ? ` ${p.label}` : ""}`;
}

function listed(ids: readonly string[], n = 3): string {
  return ids.length <= n ? ids.join(", ") : `${ids.slice(0, n).join(", ")} +${ids.length - n}`;
}

/** Why a QUEUED task waits, in a few words (the same source as `aipm explain`). */
export function waitingText(st: Style, w: SkipReason | null | undefined, retryAt: string | null): string {
  if (!w) return retryAt ? `retry ${when(st, retryAt)}` : "ready to launch";
  return reasonWords(w, { until: (iso) => `, ${when(st, iso)}`, list: (ids) => listed(ids) });
}

/** A short name for a waiting reason, for counts (`900 dependency, 40 capacity`). */
export function reasonKey(t: TaskStatusJson): string {
  if (t.blocked) return "blocked";
  if (!t.waiting) return t.retry_at ? "backoff" : "ready";
  return t.waiting.reason === "file_conflict" ? "lock" : t.waiting.reason;
}

/** A status word in its colour. */
export function statusWord(st: Style, status: string): string {
  switch (status) {
    case "DONE":
      return st.green(status);
    case "FAILED":
    case "BLOCKED":
      return st.red(status);
    case "IN_PROGRESS":
    case "REVIEW":
      return st.cyan(status);
    case "QUEUED":
      return st.yellow(status);
    case "PAUSED":
      return st.magenta(status);
    default:
      return st.dim(status);
  }
}
