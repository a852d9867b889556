/** Human rendering of a wait summary (what `wait` and `parallel-launch --wait` print at the end). */
import type { WaitSummary } from "../../runtime/wait-order.js";
import { usd } from "./status.js";

export function renderWaitSummary(s: WaitSummary): string {
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  const head = s.done ? "done" : s.timed_out ? "timed out" : "finished with problems";
  const spent = s.cost_usd !== null ? ` — agents ${usd(s.cost_usd)}, ${s.num_turns ?? 0} turns` : "";
  const lines = [`${s.project}/${s.order}: ${head} in ${s.elapsed_s}s — ${counts || "no tasks"}${s.blocked ? ` (${s.blocked} blocked)` : ""}${spent}`];
  for (const f of s.failed) {
    const kind = f.failure_kind && f.failure_kind !== "exit_code" ? ` [${f.failure_kind}]` : "";
    lines.push(`  FAILED ${f.task} after ${f.attempts} attempt(s): ${f.error ?? "?"}${kind}${f.log ? `  (log: ${f.log})` : ""}`);
    if (f.review_feedback) lines.push(`    review: ${f.review_feedback.replace(/\s+/g, " ").slice(0, 200)}`);
  }
  for (const o of s.out_of_scope ?? []) lines.push(`  ! ${o.task} edited outside its target_files: ${o.files.join(", ")}`);
  return `${lines.join("\n")}\n`;
}
