/** Human rendering of `aipm status --all` and `aipm locks` (the short view of `aipm status` is ./status-short.ts). */
import type { LockJson, StatusReport } from "../../report/status.js";
import type { HostJson } from "../../report/hosts-view.js";
import type { ResourcesJson } from "../../launch/plan-launch.js";
import { duration, PLAIN, when, type Style } from "./style.js";
import { attemptText, progressText, statusWord, waitingText } from "./task-words.js";

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
export function countsLine(c: Record<string, number>, st: Style = PLAIN): string {
  return Object.entries(c)
    .filter(([k, n]) => n > 0 && k !== "BLOCKED")
    .map(([k, n]) => (k === "QUEUED" && c.BLOCKED ? `${statusWord(st, "QUEUED")} ${n} (${c.BLOCKED} blocked)` : `${statusWord(st, k)} ${n}`))
    .join(", ");
}

/** The machine's figures in one line, or null when monitoring is off. */
export function resourcesLine(resources: ResourcesJson): string | null {
  if (!resources.monitoring) return null;
  const gpus = (resources.gpus ?? []).map((g) => `, gpu${g.index} ${g.utilization_percent ?? "?"}% (${g.memory_used_mb ?? "?"}/${g.memory_total_mb ?? "?"} MB)`).join("");
  return `resources: cpu ${resources.cpu_percent}%, memory ${resources.memory_percent}%${gpus}`;
}

/** The hosts in one line when there is more than one (`hosts: h1 2 running, h2 (gpu) 1 running, h3 silent since 12:03:04`), else null. */
export function hostsLine(hosts: readonly HostJson[], st: Style = PLAIN): string | null {
  if (hosts.length < 2) return null;
  const one = (h: HostJson): string => {
    const labels = h.labels.length ? ` (${h.labels.join(",")})` : "";
    const res = h.cpu_percent !== null ? `, cpu ${h.cpu_percent}% mem ${h.memory_percent ?? "?"}%` : "";
    const state = h.alive ? "" : st.yellow(h.heartbeat_at ? ` silent, last heartbeat ${when(st, h.heartbeat_at)}` : " never seen");
    return `${h.host}${labels} ${h.running} running${res}${state}`;
  };
  return `hosts: ${hosts.map(one).join("; ")}`;
}

/** Every task of the scope, one line each, then the running workers and the locks (`aipm status --all`). */
export function renderStatus(r: StatusReport, resources: ResourcesJson, st: Style = PLAIN): string {
  const out: string[] = [];
  const scope = r.project ? `${r.project}${r.order ? `/${r.order}` : ""}` : "all projects";
  const counts = countsLine(r.counts, st);
  out.push(`${st.bold(scope)}: ${counts || "no tasks"}`);
  const res = resourcesLine(resources);
  if (res) out.push(res);
  const hl = hostsLine(r.hosts, st);
  if (hl) out.push(hl);
  for (const h of r.holds) out.push(st.yellow(`${h.project}: agent tasks held by a usage limit until ${h.until}${h.reason ? ` (${h.reason})` : ""}`));

  const w = Math.max(8, ...r.tasks.map((t) => t.task.length)) + 2;
  let lastOrder = "";
  for (const t of r.tasks) {
    const key = `${t.project}/${t.order}`;
    if (key !== lastOrder) {
      const o = r.orders.find((x) => x.project === t.project && x.order === t.order);
      const spent = o && o.cost_usd !== null ? `  (agents: ${usd(o.cost_usd)}, ${o.num_turns ?? 0} turns)` : "";
      out.push("", `${st.bold(key)}${o?.paused ? `  ${statusWord(st, "PAUSED")} (aipm resume ${t.project} ${t.order})` : ""}${spent}`);
      lastOrder = key;
    }
    const stateText = t.blocked ? `BLOCKED (by ${t.failed_dependency})` : t.status;
    const progress = t.progress ? ` ${progressText(t.progress)}` : "";
    const state = `${statusWord(st, t.blocked ? "BLOCKED" : t.status)}${stateText.slice(t.blocked ? 7 : t.status.length)}${progress}`;
    const padding = " ".repeat(Math.max(0, 14 - (stateText.length + progress.length)));
    const kind = t.failure_kind && t.failure_kind !== "exit_code" ? ` [${t.failure_kind}]` : "";
    const err = t.error && (t.status === "FAILED" || t.status === "QUEUED" || t.status === "SKIPPED") ? `  ${t.error}${kind}` : "";
    // Why a QUEUED task waits (blocked is said above).
    const why = t.status === "QUEUED" && !t.blocked && t.waiting?.reason !== "dependency" ? `  (${waitingText(st, t.waiting, t.retry_at)})` : "";
    const deps = t.deps.length ? `  after ${t.deps.join(",")}` : "";
    const cost = t.cost_usd !== null ? `  ${usd(t.cost_usd)} ${t.num_turns ?? 0}t` : "";
    const tries = t.attempt > 1 || t.spent_attempts !== t.attempt ? st.dim(`  ${attemptText(t)}`) : "";
    const ended = t.finished_at && (t.status === "DONE" || t.status === "FAILED") ? st.dim(`  ${t.status === "DONE" ? "done" : "failed"} ${when(st, t.finished_at)}`) : "";
    out.push(`  ${pad(t.task, w)}${t.priority}  ${state}${padding}${deps}${cost}${tries}${ended}${err}${why}`);
    if (t.out_of_scope.length) out.push(`  ${pad("", w)}  ! edited outside its target_files: ${t.out_of_scope.join(", ")}`);
    if (t.permission_denials > 0) out.push(`  ${pad("", w)}  ! ${t.permission_denials} permission denial(s) in its last attempt`);
  }
  if (r.workers.length) {
    out.push("", "running workers:");
    const byTask = new Map(r.tasks.map((t) => [`${t.project}\0${t.task}`, t]));
    for (const wk of r.workers) {
      const t = byTask.get(`${wk.project}\0${wk.task}`);
      const elapsed = wk.elapsed_s !== null ? `running ${duration(wk.elapsed_s * 1000)}` : "-";
      const prog = wk.progress ? `  ${progressText(wk.progress)}` : "";
      const tries = t ? attemptText(t) : `attempt ${wk.attempt}`;
      out.push(`  ${pad(wk.task, w)}pid ${wk.pid ?? "-"}  ${tries}  ${st.cyan(elapsed)}${prog}  ${st.dim(wk.last_output ?? "")}`.trimEnd());
    }
  }
  if (r.locks.length) out.push("", "locks:", ...renderLocks(r.locks).trimEnd().split("\n").map((l) => `  ${l}`));
  return `${out.join("\n")}\n`;
}
