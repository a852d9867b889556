/** Human rendering of a wait summary (what `wait` and `parallel-launch --wait` print at the end). */
import type { FailedTask, WaitSummary } from "../../runtime/wait-order.js";
import type { WaitAllSummary } from "../../runtime/wait-all.js";
import { usd } from "./status.js";

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
}

function failureLines(f: FailedTask, prefix = ""): string[] {
  const kind = f.failure_kind && f.failure_kind !== "exit_code" ? ` [${f.failure_kind}]` : "";
  const lines = [`  FAILED ${prefix}${f.task} after ${f.attempts} attempt(s): ${f.error ?? "?"}${kind}${f.log ? `  (log: ${f.log})` : ""}`];
  if (f.review_feedback) lines.push(`    review: ${f.review_feedback.slice(0, 200)}`);
  lines.push(`    next: ${f.next}`);
  return lines;
}

export function renderWaitSummary(s: WaitSummary): string {
  const counts = countsText(s.counts);
  const head = s.done ? "done" : s.timed_out ? "timed out" : "finished with problems";
  const spent = s.cost_usd !== null ? ` — agents ${usd(s.cost_usd)}, ${s.num_turns ?? 0} turns` : "";
  const lines = [`${s.project}/${s.order}: ${head} in ${s.elapsed_s}s — ${counts || "no tasks"}${s.blocked ? ` (${s.blocked} blocked)` : ""}${spent}`];
  for (const f of s.failed) lines.push(...failureLines(f));
  for (const o of s.out_of_scope ?? []) lines.push(`  ! ${o.task} edited outside its target_files: ${o.files.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

export function renderWaitAll(s: WaitAllSummary): string {
  if (s.orders.length === 0) return `no active order${s.project ? ` in ${s.project}` : ""} to wait for\n`;
  const head = s.done ? "done" : s.timed_out ? "timed out" : "finished with problems";
  const spent = s.cost_usd !== null ? ` — agents ${usd(s.cost_usd)}, ${s.num_turns ?? 0} turns` : "";
  const lines = [`${s.orders.length} order(s): ${head} in ${s.elapsed_s}s — ${countsText(s.counts)}${s.blocked ? ` (${s.blocked} blocked)` : ""}${spent}`];
  for (const o of s.orders) lines.push(`  ${o.project}/${o.order}: ${o.done ? "done" : "not done"} — ${countsText(o.counts) || "no tasks"}`);
  for (const f of s.failed) lines.push(...failureLines(f, `${f.project}/${f.order}/`));
  return `${lines.join("\n")}\n`;
}
