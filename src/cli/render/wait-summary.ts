/** Human rendering of a wait summary (what `wait` and `parallel-launch --wait` print at the end). */
import type { FailedTask, WaitSummary } from "../../runtime/wait-order.js";
import type { WaitAllSummary } from "../../runtime/wait-all.js";
import { usd } from "./status.js";
import { duration } from "./style.js";
import { attemptsText } from "../../report/attempt-text.js";

/** `done in 4m12s` (the order's first start to its last end), or `timed out after 30s of waiting (running for 4m12s)`. */
function headline(s: { done: boolean; timed_out: boolean; elapsed_s: number }, orderS: number | null): string {
  if (s.timed_out) return `timed out after ${duration(s.elapsed_s * 1000)} of waiting${orderS !== null ? ` (running for ${duration(orderS * 1000)})` : ""}`;
  const head = s.done ? "done" : "finished with problems";
  return orderS !== null ? `${head} in ${duration(orderS * 1000)}` : `${head}, nothing ran`;
}

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
}

function failureLines(f: FailedTask, prefix = ""): string[] {
  const kind = f.failure_kind && f.failure_kind !== "exit_code" ? ` [${f.failure_kind}]` : "";
  const lines = [`  FAILED ${prefix}${f.task} after ${attemptsText(f.attempts, f.counted_attempts ?? f.attempts)}: ${f.error ?? "?"}${kind}${f.log ? `  (log: ${f.log})` : ""}`];
  if (f.review_feedback) lines.push(`    review: ${f.review_feedback.slice(0, 200)}`);
  lines.push(`    next: ${f.next}`);
  return lines;
}

export function renderWaitSummary(s: WaitSummary): string {
  const counts = countsText(s.counts);
  const spent = s.cost_usd !== null ? ` — agents ${usd(s.cost_usd)}, ${s.num_turns ?? 0} turns` : "";
  const lines = [`${s.project}/${s.order}: ${headline(s, s.order_elapsed_s)} — ${counts || "no tasks"}${s.blocked ? ` (${s.blocked} blocked)` : ""}${spent}`];
  for (const f of s.failed) lines.push(...failureLines(f));
  for (const o of s.out_of_scope ?? []) lines.push(`  ! ${o.task} edited outside its target_files: ${o.files.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

export function renderWaitAll(s: WaitAllSummary): string {
  if (s.orders.length === 0) return `no active order${s.project ? ` in ${s.project}` : ""} to wait for\n`;
  const spent = s.cost_usd !== null ? ` — agents ${usd(s.cost_usd)}, ${s.num_turns ?? 0} turns` : "";
  const head = s.done ? "done" : s.timed_out ? `timed out after ${duration(s.elapsed_s * 1000)} of waiting` : "finished with problems";
  const lines = [`${s.orders.length} order(s): ${head} — ${countsText(s.counts)}${s.blocked ? ` (${s.blocked} blocked)` : ""}${spent}`];
  for (const o of s.orders) lines.push(`  ${o.project}/${o.order}: ${o.done ? "done" : "not done"}${o.order_elapsed_s !== null ? ` in ${duration(o.order_elapsed_s * 1000)}` : ""} — ${countsText(o.counts) || "no tasks"}`);
  for (const f of s.failed) lines.push(...failureLines(f, `${f.project}/${f.order}/`));
  return `${lines.join("\n")}\n`;
}
