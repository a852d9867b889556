/** Human rendering of a wait summary (what `wait` and `parallel-launch --wait` print at the end). */
import type { WaitSummary } from "../../runtime/wait-order.js";

export function renderWaitSummary(s: WaitSummary): string {
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  const head = s.done ? "done" : s.timed_out ? "timed out" : "finished with problems";
  const lines = [`${s.project}/${s.order}: ${head} in ${s.elapsed_s}s — ${counts || "no tasks"}${s.blocked ? ` (${s.blocked} blocked)` : ""}`];
  for (const f of s.failed) lines.push(`  FAILED ${f.task} after ${f.attempts} attempt(s): ${f.error ?? "?"}${f.log ? `  (log: ${f.log})` : ""}`);
  return `${lines.join("\n")}\n`;
}
