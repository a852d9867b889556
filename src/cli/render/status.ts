/** Human rendering of `aipm status` and `aipm locks`. */
import type { LockJson, StatusReport } from "../../report/status.js";
import type { ResourcesJson } from "../../launch/plan-launch.js";
import { describeSkip } from "./launch-report.js";

export function usd(n: number | null): string {
  return n === null ? "" : `$${n < 10 ? n.toFixed(4) : n.toFixed(2)}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function renderLocks(locks: readonly LockJson[]): string {
  if (locks.length === 0) return "no locks held\n";
  const w = Math.max(...locks.map((l) => l.file.length)) + 2;
  return `${locks.map((l) => `${pad(l.file, w)}${l.project}/${l.task}  since ${l.acquired_at}`).join("\n")}\n`;
}

/** Counts per status that add up: blocked tasks are QUEUED ones, said inside QUEUED (`QUEUED 9 (9 blocked)`). */
export function countsLine(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([k, n]) => n > 0 && k !== "BLOCKED")
    .map(([k, n]) => (k === "QUEUED" && c.BLOCKED ? `QUEUED ${n} (${c.BLOCKED} blocked)` : `${k} ${n}`))
    .join(", ");
}

export function renderStatus(r: StatusReport, resources: ResourcesJson): string {
  const out: string[] = [];
  const scope = r.project ? `${r.project}${r.order ? `/${r.order}` : ""}` : "all projects";
  const counts = countsLine(r.counts);
  out.push(`${scope}: ${counts || "no tasks"}`);
  if (resources.monitoring) {
    const gpus = (resources.gpus ?? []).map((g) => `, gpu${g.index} ${g.utilization_percent ?? "?"}% (${g.memory_used_mb ?? "?"}/${g.memory_total_mb ?? "?"} MB)`).join("");
    out.push(`resources: cpu ${resources.cpu_percent}%, memory ${resources.memory_percent}%${gpus}`);
  }

  const w = Math.max(8, ...r.tasks.map((t) => t.task.length)) + 2;
  let lastOrder = "";
  for (const t of r.tasks) {
    const key = `${t.project}/${t.order}`;
    if (key !== lastOrder) {
      const o = r.orders.find((x) => x.project === t.project && x.order === t.order);
      const spent = o && o.cost_usd !== null ? `  (agents: ${usd(o.cost_usd)}, ${o.num_turns ?? 0} turns)` : "";
      out.push("", `${key}${o?.paused ? "  PAUSED (aipm resume " + t.project + " " + t.order + ")" : ""}${spent}`);
      lastOrder = key;
    }
    const state = t.blocked ? `BLOCKED (by ${t.failed_dependency})` : t.status;
    const progress = t.progress ? ` ${t.progress.done}/${t.progress.total}` : "";
    const kind = t.failure_kind && t.failure_kind !== "exit_code" ? ` [${t.failure_kind}]` : "";
    const err = t.error && (t.status === "FAILED" || t.status === "QUEUED" || t.status === "SKIPPED") ? `  ${t.error}${kind}` : "";
    // Why a QUEUED task waits (blocked is said above).
    const why = t.status === "QUEUED" && t.waiting && t.waiting.reason !== "blocked" && t.waiting.reason !== "dependency" ? `  (${describeSkip(t.waiting)})` : "";
    const deps = t.deps.length ? `  after ${t.deps.join(",")}` : "";
    const cost = t.cost_usd !== null ? `  ${usd(t.cost_usd)} ${t.num_turns ?? 0}t` : "";
    out.push(`  ${pad(t.task, w)}${t.priority}  ${pad(state + progress, 14)}${deps}${cost}${err}${why}`);
    if (t.out_of_scope.length) out.push(`  ${pad("", w)}  ! edited outside its target_files: ${t.out_of_scope.join(", ")}`);
  }
  if (r.workers.length) {
    out.push("", "running workers:");
    for (const wk of r.workers) {
      const elapsed = wk.elapsed_s !== null ? `${wk.elapsed_s}s` : "-";
      out.push(`  ${pad(wk.task, w)}pid ${wk.pid ?? "-"}  attempt ${wk.attempt}  ${elapsed}  ${wk.last_output ?? ""}`.trimEnd());
    }
  }
  if (r.locks.length) out.push("", "locks:", ...renderLocks(r.locks).trimEnd().split("\n").map((l) => `  ${l}`));
  return `${out.join("\n")}\n`;
}
