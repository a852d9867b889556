/** Human rendering of `aipm status` and `aipm locks`. */
import type { LockJson, StatusReport } from "../../report/status.js";
import type { ResourcesJson } from "../../launch/plan-launch.js";

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function renderLocks(locks: readonly LockJson[]): string {
  if (locks.length === 0) return "no locks held\n";
  const w = Math.max(...locks.map((l) => l.file.length)) + 2;
  return `${locks.map((l) => `${pad(l.file, w)}${l.project}/${l.task}  since ${l.acquired_at}`).join("\n")}\n`;
}

export function renderStatus(r: StatusReport, resources: ResourcesJson): string {
  const out: string[] = [];
  const scope = r.project ? `${r.project}${r.order ? `/${r.order}` : ""}` : "all projects";
  const counts = Object.entries(r.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  out.push(`${scope}: ${counts || "no tasks"}`);
  if (resources.monitoring) out.push(`resources: cpu ${resources.cpu_percent}%, memory ${resources.memory_percent}%`);

  const w = Math.max(8, ...r.tasks.map((t) => t.task.length)) + 2;
  let lastOrder = "";
  for (const t of r.tasks) {
    const key = `${t.project}/${t.order}`;
    if (key !== lastOrder) {
      out.push("", key);
      lastOrder = key;
    }
    const state = t.blocked ? `BLOCKED (by ${t.failed_dependency})` : t.status;
    const progress = t.progress ? ` ${t.progress.done}/${t.progress.total}` : "";
    const err = t.error && (t.status === "FAILED" || t.status === "QUEUED") ? `  ${t.error}` : "";
    const deps = t.deps.length ? `  after ${t.deps.join(",")}` : "";
    out.push(`  ${pad(t.task, w)}${t.priority}  ${pad(state + progress, 14)}${deps}${err}`);
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
