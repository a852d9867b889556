/** Human rendering of a launch (or dry run) report. */
import { hostNeedText } from "../../detect/host-need.js";
import type { LaunchReport } from "../../launch/plan-launch.js";
import type { SkipReason } from "../../detect/select.js";

export function describeSkip(s: SkipReason): string {
  switch (s.reason) {
    case "dependency":
      return `waiting for ${s.waiting_for.join(", ")}`;
    case "file_conflict":
      return `${s.file} is held by ${s.held_by}`;
    case "blocked":
      return `blocked: dependency ${s.failed_dependency} failed`;
    case "backoff":
      return `retry backoff until ${s.retry_at}`;
    case "capacity":
      return "no free worker slot";
    case "paused":
      return "order is paused";
    case "host":
      return hostNeedText(s);
    case "rate_limit":
      return `usage limit: agent tasks wait until ${s.retry_at}`;
    case "budget":
      return `order budget reached ($${s.spent_usd} of $${s.budget_usd})`;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function renderLaunchReport(r: LaunchReport): string {
  const res = r.resources.monitoring
    ? `cpu ${r.resources.cpu_percent}%, memory ${r.resources.memory_percent}%${r.resources.healthy ? "" : " (over the limit)"}`
    : "resource monitoring off";
  const lines = [
    `${r.project}/${r.order}${r.dry_run ? " (dry run)" : ""}: ${r.effective_workers} of ${r.max_workers} workers, ${r.running} running; ${res}`,
  ];
  const w = Math.max(8, ...r.launchable.map((t) => t.task.length), ...r.skipped.map((t) => t.task.length)) + 2;
  if (r.dry_run) {
    lines.push(r.launchable.length ? "would launch:" : "would launch: nothing");
    for (const t of r.launchable) lines.push(`  ${pad(t.task, w)}${t.priority}  ${t.target_files.join(" ") || "(no target files)"}`);
  } else {
    lines.push(r.launched.length ? "launched:" : "launched: nothing");
    for (const t of r.launched) lines.push(`  ${pad(t.task, w)}pid ${t.pid}, attempt ${t.attempt}`);
  }
  if (r.skipped.length) {
    lines.push("skipped:");
    for (const s of r.skipped) lines.push(`  ${pad(s.task, w)}${pad(s.reason, 15)}${describeSkip(s)}`);
  }
  if (r.failed.length) {
    lines.push("failed to start:");
    for (const f of r.failed) lines.push(`  ${pad(f.task, w)}${f.error}`);
  }
  return `${lines.join("\n")}\n`;
}
