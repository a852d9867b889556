/**
 * The dashboard's HTML, rendered on the server: the page carries its data
 * (curl shows the tasks, not an empty shell), and live updates fetch the same
 * fragments again (`?fragment=order|sidebar|machine`) — one renderer, and all
 * task text goes through `esc`: a task titled `<script>` shows as text.
 * Styles and the small client script are inline: nothing is loaded from
 * anywhere else.
 */
import { attemptText } from "../report/attempt-text.js";
import { reasonWords } from "../report/reason-words.js";
import type { MachineJson } from "./machine-history.js";
import type { AttemptJson, DashboardTask, OrderViewJson, OverviewJson, TaskDetailJson } from "./dashboard-data.js";
import type { SkipReason } from "../detect/select.js";
import type { Explanation } from "../report/explain.js";
import { CLIENT_SCRIPT } from "./client-script.js";

export function esc(v: unknown): string {
  return String(v ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const url = (...parts: string[]) => parts.map((p) => encodeURIComponent(p)).join("/");

/** Counts per status that add up: blocked tasks (QUEUED behind a failed dependency) are shown apart from the other QUEUED ones. */
function counts(raw: Record<string, number>): string {
  const c = { ...raw };
  if (c.BLOCKED) c.QUEUED = (c.QUEUED ?? 0) - c.BLOCKED;
  const order = ["IN_PROGRESS", "REVIEW", "QUEUED", "BLOCKED", "DONE", "FAILED", "CANCELLED", "SKIPPED"];
  return order
    .filter((k) => (c[k] ?? 0) > 0)
    .map((k) => `<span class="badge s-${esc(k)}" title="${esc(k)}">${esc(k === "IN_PROGRESS" ? "RUNNING" : k)} ${esc(c[k])}</span>`)
    .join(" ");
}

export function renderSidebar(o: OverviewJson, current: { project: string; order: string } | null): string {
  if (o.projects.length === 0) return `<p class="muted">No orders yet: <code>aipm import plan.yaml</code></p>`;
  return o.projects
    .map(
      (p) => `<div class="project"><h2>${esc(p.project)}</h2><ul>${p.orders
        .map((ord) => {
          const here = current?.project === p.project && current.order === ord.order;
          return `<li${here ? ' class="current"' : ""}><a href="/orders/${url(p.project, ord.order)}" data-order="${esc(ord.order)}">${esc(ord.order)}</a>${
            ord.paused ? ' <span class="badge paused">PAUSED</span>' : ""
          }<div class="title">${esc(ord.title)}</div><div class="counts">${counts(ord.counts)}</div></li>`;
        })
        .join("")}</ul></div>`,
    )
    .join("");
}

function duration(s: number | null): string {
  if (s === null) return "";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * A running clock: the elapsed time as rendered, which the page's script
 * advances every second from `data-since` (so a running task's row does not
 * change on the server every second, and no update is sent for it).
 */
function clock(startedAt: string | null, finished: boolean, s: number | null): string {
  if (s === null) return "";
  if (finished || !startedAt) return esc(duration(s));
  return `<span class="el" data-since="${Date.parse(startedAt)}">${esc(duration(s))}</span>`;
}

/** A rendered fragment without what the page's script keeps current by itself (running clocks): equal when nothing worth sending changed. */
export function liveSignature(html: string): string {
  return html.replace(/(<span class="el" data-since="\d+">)[^<]*/g, "$1").replace(/\([^()"]*? of work/g, "(of work");
}

function progressBar(t: DashboardTask): string {
  if (!t.progress) return "";
  const pct = t.progress.total > 0 ? Math.min(100, Math.round((t.progress.done / t.progress.total) * 100)) : 0;
  const label = t.progress.label ? ` title="${esc(t.progress.label)}"` : "";
  return `<div class="bar" data-progress="${t.progress.done}/${t.progress.total}"${label}><div style="width:${pct}%"></div><span>${t.progress.done}/${t.progress.total}</span></div>`;
}

/** What stopping a running task loses, said in the confirmation. */
function losing(t: DashboardTask): string {
  const parts = [t.elapsed_s !== null ? `${duration(t.elapsed_s)} of work` : "", t.progress ? `progress ${t.progress.done}/${t.progress.total}` : ""].filter(Boolean);
  return parts.length ? ` Its running attempt (${parts.join(", ")}) is lost.` : "";
}

function actions(t: DashboardTask): string {
  const b = (action: string, label: string, cls = "", confirm = "") =>
    `<button data-action="${action}" data-project="${esc(t.project)}" data-task="${esc(t.task)}"${cls ? ` class="${cls}"` : ""}${confirm ? ` data-confirm="${esc(confirm)}"` : ""}>${label}</button>`;
  const out = [b("log", "Log")];
  if (t.status === "IN_PROGRESS" || t.status === "REVIEW") {
    out.push(
      b("requeue", "Requeue", "", `Requeue ${t.task}? It is stopped and starts again from the beginning.${losing(t)}`),
      b("kill", "Kill", "danger", `Kill ${t.task}? It ends CANCELLED.${losing(t)}`),
    );
  }
  if (t.status === "QUEUED") out.push(b("kill", "Cancel", "danger", `Cancel ${t.task}? It will not run (Retry puts it back).`));
  if (t.status === "FAILED" || t.status === "CANCELLED" || t.status === "SKIPPED") out.push(b("retry", "Retry"));
  return out.join("");
}

/** Why a QUEUED task waits, in words (the detector's reason, as `status` and `parallel-launch --dry-run` say it). */
export function describeWaiting(w: SkipReason): string {
  return reasonWords(w, { until: (iso) => ` until ${iso.slice(11, 19)}`, list: (ids) => ids.join(", ") });
}

export function taskRow(t: DashboardTask): string {
  const state = t.blocked ? "BLOCKED" : t.status;
  const usd = t.cost_usd !== null ? `$${t.cost_usd.toFixed(4)}` : "";
  const why = t.status === "QUEUED" ? (t.waiting ? describeWaiting(t.waiting) : "ready to launch") : "";
  return `<tr data-task="${esc(t.task)}" data-status="${esc(t.status)}">
<td class="id"><a href="#" data-action="task" data-project="${esc(t.project)}" data-task="${esc(t.task)}">${esc(t.task)}</a></td><td class="ttl">${esc(t.title)}</td>
<td class="st"><span class="badge s-${esc(state)}">${esc(state === "IN_PROGRESS" ? "RUNNING" : state)}</span>${why ? `<div class="why" data-why="${esc(t.waiting?.reason ?? "ready")}">${esc(why)}</div>` : ""}</td>
<td class="pri">${esc(t.priority)}</td>
<td class="deps">${t.deps.length ? `after ${t.deps.map((d) => (t.dep_conditions[d] ? `${esc(d)} (on ${esc(t.dep_conditions[d])})` : esc(d))).join(", ")}` : ""}</td>
<td class="files">${t.target_files.map((f) => `<code>${esc(f)}</code>`).join(" ")}</td>
<td class="tries" title="${esc(attemptText(t))}">${esc(t.spent_attempts)}/${esc(t.max_attempts)}${t.attempt > t.spent_attempts ? ` <span class="muted">+${esc(t.attempt - t.spent_attempts)} free</span>` : ""}</td>
<td class="progress">${progressBar(t)}</td>
<td class="time">${clock(t.started_at, t.finished_at !== null, t.elapsed_s)}</td>
<td class="fail">${t.failure_kind ? `<span class="kind">${esc(t.failure_kind)}</span>` : ""}${t.out_of_scope.length ? ` <span class="kind" title="${esc(t.out_of_scope.join(", "))}">out of scope</span>` : ""}</td>
<td class="cost">${esc(usd)}</td>
<td class="actions">${actions(t)}</td></tr>`;
}

export type OrderViewKind = "tasks" | "graph" | "timeline";

function viewTabs(v: OrderViewJson, view: OrderViewKind): string {
  const base = `/orders/${url(v.project, v.order)}`;
  const tab = (k: OrderViewKind, label: string) => `<a href="${k === "tasks" ? base : `${base}?view=${k}`}" data-view="${k}"${k === view ? ' class="on" aria-current="page"' : ""}>${label}</a>`;
  return `<nav class="views">${tab("tasks", "Tasks")}${tab("graph", "Graph")}${tab("timeline", "Timeline")}</nav>`;
}

/** What the task list shows: a text filter (every word matches the id, title, status or reason), DONE collapsed or not, how many rows. */
export interface TaskFilter {
  q: string;
  hideDone: boolean;
  limit: number;
}

/** Rows rendered at first and per "show more": the first screen of a 10,000-task order comes fast, the rest on demand. */
export const PAGE_ROWS = 200;

export const NO_FILTER: TaskFilter = { q: "", hideDone: false, limit: PAGE_ROWS };

function waitingText(t: DashboardTask): string {
  return t.status === "QUEUED" ? (t.waiting ? describeWaiting(t.waiting) : "ready to launch") : "";
}

/** The order's tasks the filter keeps, by dependency level (as the table shows them). */
export function filterTasks(tasks: DashboardTask[], f: Pick<TaskFilter, "q" | "hideDone">): DashboardTask[] {
  const words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
  const kept = tasks.filter((t) => {
    if (f.hideDone && t.status === "DONE") return false;
    if (words.length === 0) return true;
    const state = t.blocked ? "BLOCKED" : t.status;
    const hay = `${t.task}\n${t.title}\n${state}\n${state === "IN_PROGRESS" ? "RUNNING" : ""}\n${waitingText(t)}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  return kept.map((t, i) => ({ t, i })).sort((a, b) => a.t.level - b.t.level || a.i - b.i).map((x) => x.t);
}

function levelRow(l: number): string {
  return `<tr class="level" data-level="${l}"><td colspan="12">${l === 0 ? "Level 0 — no dependencies" : `Level ${l} — after level ${l - 1}`}</td></tr>`;
}

/** Rows `from` up to `to` of a filtered list, with a level heading where a level starts, and a "show more" row when rows are left. */
export function renderRows(list: DashboardTask[], from: number, to: number): string {
  const out: string[] = [];
  let level = from > 0 ? list[from - 1]?.level : undefined;
  for (let i = from; i < Math.min(to, list.length); i++) {
    const t = list[i]!;
    if (t.level !== level) out.push(levelRow(t.level));
    level = t.level;
    out.push(taskRow(t));
  }
  if (to < list.length) {
    const next = Math.min(PAGE_ROWS, list.length - to);
    out.push(`<tr class="more"><td colspan="12"><button data-action="more" data-offset="${to}">Show ${next} more (${list.length - to} not shown)</button></td></tr>`);
  }
  return out.join("");
}

/** The task list: the filter bar and the first `limit` rows the filter keeps. */
export function renderTasks(v: OrderViewJson, f: TaskFilter): string {
  const list = filterTasks(v.tasks, f);
  const done = v.tasks.filter((t) => t.status === "DONE").length;
  const shown = Math.min(f.limit, list.length);
  const note = list.length === v.tasks.length ? `${v.tasks.length} tasks` : `${list.length} of ${v.tasks.length} tasks${f.hideDone && done ? ` (${done} DONE collapsed)` : ""}`;
  return `<h2>Tasks</h2><div class="filters"><input type="search" id="q" name="q" placeholder="filter: id, status, text" value="${esc(f.q)}" autocomplete="off" aria-label="filter tasks"><label><input type="checkbox" id="hidedone"${
    f.hideDone ? " checked" : ""
  }> collapse DONE</label><span class="muted small" id="shown" data-shown="${shown}" data-matching="${list.length}">${esc(note)}</span></div><table class="tasks"><thead><tr><th>task</th><th>title</th><th>status</th><th>pri</th><th>deps</th><th>files</th><th>tries</th><th>progress</th><th>time</th><th>failure</th><th>cost</th><th></th></tr></thead><tbody id="rows">${renderRows(
    list,
    0,
    f.limit,
  )}</tbody></table>`;
}

const FAILURES_SHOWN = 30;

/** The parts of an order's page that live updates send whole when they change (the task rows go one by one). */
export interface OrderParts {
  head: string;
  trend: string;
  workers: string;
  locks: string;
  hosts: string;
  failures: string;
}

export function orderParts(v: OrderViewJson): OrderParts {
  const k = v.kpis;
  const kpi = (label: string, value: string) => `<div class="kpi"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
  const ob = (action: string, label: string, extra = "") => `<button data-action="${action}" data-project="${esc(v.project)}" data-order="${esc(v.order)}"${extra}>${label}</button>`;
  const head = `<header><div><h1>${esc(v.order)} <small>${esc(v.project)}</small>${v.paused ? ' <span class="badge paused">PAUSED</span>' : ""}</h1><div class="title">${esc(v.title)}</div></div>
<div class="controls">${ob(v.paused ? "resume" : "pause", v.paused ? "Resume order" : "Pause order")}<span class="scale" title="the order's worker limit">workers ${ob("scale", "−", ` data-workers="${v.max_workers - 1}" aria-label="one worker less"${v.max_workers <= 1 ? " disabled" : ""}`)}<b data-max-workers="${esc(v.max_workers)}">${esc(v.max_workers)}</b>${ob("scale", "+", ` data-workers="${v.max_workers + 1}" aria-label="one worker more"`)}</span></div></header>
<div class="counts">${counts(v.counts)}</div>
<div class="kpis">${kpi("done", String(k.done))}${kpi("failed", String(k.failed))}${kpi("success rate", k.success_rate === null ? "—" : `${k.success_rate}%`)}${kpi(
    "throughput",
    k.throughput_per_min === null ? "—" : `${k.throughput_per_min}/min`,
  )}${kpi("avg duration", k.avg_duration_s === null ? "—" : duration(k.avg_duration_s))}${kpi("agent cost", k.cost_usd === null ? "—" : `$${k.cost_usd.toFixed(4)}`)}</div>`;
  const byId = new Map(v.tasks.map((t) => [t.task, t]));
  const workers = v.workers.length
    ? `<h2>Running workers</h2><table class="workers"><thead><tr><th>task</th><th>pid</th><th>attempt</th><th>elapsed</th><th>progress</th><th>last output</th></tr></thead><tbody>${v.workers
        .map((w) => {
          const t = byId.get(w.task);
          return `<tr data-worker="${esc(w.task)}"><td class="id">${esc(w.task)}${w.status === "REVIEW" ? ' <span class="badge s-REVIEW">REVIEW</span>' : ""}</td><td data-label="pid">${esc(w.pid)}</td><td data-label="attempt">${esc(
            w.attempt,
          )}</td><td data-label="elapsed">${clock(t?.started_at ?? null, false, w.elapsed_s)}</td><td>${t ? progressBar(t) : ""}</td><td class="out"><button data-action="log" data-project="${esc(w.project)}" data-task="${esc(w.task)}">tail</button> <code>${esc(w.last_output)}</code></td></tr>`;
        })
        .join("")}</tbody></table>`
    : "";
  const locks = v.locks.length
    ? `<h2>Locks</h2><table class="locks"><tbody>${v.locks.map((l) => `<tr><td><code>${esc(l.file)}</code></td><td>${esc(l.task)}</td><td class="muted">${esc(l.acquired_at)}</td></tr>`).join("")}</tbody></table>`
    : "";
  const more = v.failures.length > FAILURES_SHOWN ? `<p class="muted">and ${v.failures.length - FAILURES_SHOWN} more failed tasks: filter the tasks by <code>FAILED</code>.</p>` : "";
  const failures = v.failures.length
    ? `<h2>Failures</h2>${v.failures
        .slice(0, FAILURES_SHOWN)
        .map(
          (f) => `<div class="failure" data-failure="${esc(f.task)}"><div><b>${esc(f.task)}</b> <span class="kind">${esc(f.failure_kind)}</span> after ${esc(f.attempts)} attempt(s): ${esc(
            f.error,
          )}</div><pre>${esc(f.log_tail)}</pre></div>`,
        )
        .join("")}${more}`
    : "";
  return { head, trend: trendChart(v.trend), workers, locks, hosts: hostsTable(v.hosts), failures };
}

/**
 * The hosts sharing the database, when there are several: labels, last
 * heartbeat, this project's attempts running there, the last CPU/memory
 * sample; a host silent past the lease is marked (its attempts are recovered
 * elsewhere). Sent whole in the live updates when it changes, like the locks.
 */
function hostsTable(hosts: OrderViewJson["hosts"]): string {
  if (hosts.length < 2) return "";
  const pct = (n: number | null) => (n === null ? "—" : `${n}%`);
  const rows = hosts
    .map(
      (h) =>
        `<tr data-host="${esc(h.host)}"><td class="id">${esc(h.host)}${h.alive ? "" : ' <span class="badge s-FAILED">silent</span>'}</td><td data-label="labels">${esc(h.labels.join(", "))}</td><td data-label="heartbeat" class="muted">${esc(
          h.heartbeat_at ?? "never",
        )}</td><td data-label="running">${esc(h.running)}</td><td data-label="cpu">${pct(h.cpu_percent)}</td><td data-label="memory">${pct(h.memory_percent)}</td></tr>`,
    )
    .join("");
  return `<h2>Hosts</h2><table class="hosts"><thead><tr><th>host</th><th>labels</th><th>last heartbeat</th><th>running</th><th>cpu</th><th>memory</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderOrder(v: OrderViewJson, view: OrderViewKind = "tasks", attempts: AttemptJson[] = [], filter: TaskFilter = NO_FILTER): string {
  const p = orderParts(v);
  const part = (name: keyof OrderParts) => `<div data-part="${name}">${p[name]}</div>`;
  const body = view === "graph" ? renderGraph(v) : view === "timeline" ? renderTimeline(v, attempts) : renderTasks(v, filter);
  return `${part("head")}${part("trend")}${viewTabs(v, view)}<div data-part="body">${body}</div>${part("workers")}${part("locks")}${part("hosts")}${part("failures")}`;
}

const GRAPH_MAX = 400;

const EDGE_LABEL: Record<string, string> = { failure: "on failure", always: "always" };

/**
 * The order's dependency graph: one column per dependency level, each column
 * ordered by the mean row of its tasks' dependencies (fewer crossings), edges
 * from a dependency to its dependent, conditions written on their edges.
 */
export function renderGraph(v: OrderViewJson): string {
  if (v.tasks.length > GRAPH_MAX) return `<h2>Graph</h2><p class="muted">The graph is drawn for orders of up to ${GRAPH_MAX} tasks; this one has ${v.tasks.length}. The task list shows them by level.</p>`;
  const NW = 130;
  const NH = 30;
  const GX = 60;
  const GY = 12;
  const cols = new Map<number, DashboardTask[]>();
  for (const t of v.tasks) cols.set(t.level, [...(cols.get(t.level) ?? []), t]);
  const row = new Map<string, number>();
  const levels = [...cols.keys()].sort((a, b) => a - b);
  for (const l of levels) {
    const list = cols.get(l)!;
    const key = (t: DashboardTask) => {
      const rs = t.deps.map((d) => row.get(d)).filter((x): x is number => x !== undefined);
      return rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : Number.POSITIVE_INFINITY;
    };
    const keyed = list.map((t, i) => ({ t, k: key(t), i }));
    if (l > 0) keyed.sort((a, b) => (a.k === b.k ? a.i - b.i : a.k - b.k));
    keyed.forEach((x, i) => {
      row.set(x.t.task, i);
    });
    cols.set(l, keyed.map((x) => x.t));
  }
  const height = Math.max(...[...cols.values()].map((c) => c.length)) * (NH + GY) + GY;
  const width = levels.length * (NW + GX) - GX + 20;
  const pos = (id: string) => {
    const t = v.tasks.find((x) => x.task === id);
    return t ? { x: 10 + t.level * (NW + GX), y: GY + row.get(id)! * (NH + GY) } : null;
  };
  const at = new Map(v.tasks.map((t) => [t.task, pos(t.task)!]));
  const edges: string[] = [];
  for (const t of v.tasks) {
    const b = at.get(t.task)!;
    for (const d of t.deps) {
      const a = at.get(d);
      if (!a) continue;
      const x1 = a.x + NW;
      const y1 = a.y + NH / 2;
      const x2 = b.x;
      const y2 = b.y + NH / 2;
      const c = t.dep_conditions[d];
      const mx = (x1 + x2) / 2;
      edges.push(
        `<path class="edge${c ? ` c-${esc(c)}` : ""}" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}"><title>${esc(t.task)} after ${esc(d)}${c ? ` (${esc(EDGE_LABEL[c] ?? c)})` : ""}</title></path>${
          c ? `<text class="elabel" x="${mx}" y="${((y1 + y2) / 2 - 3).toFixed(1)}">${esc(EDGE_LABEL[c] ?? c)}</text>` : ""
        }`,
      );
    }
  }
  const nodes = v.tasks.map((t) => {
    const p = at.get(t.task)!;
    const state = t.blocked ? "BLOCKED" : t.status;
    const label = t.task.length > 16 ? `${t.task.slice(0, 15)}…` : t.task;
    return `<g class="node n-${esc(state)}" data-action="task" data-project="${esc(t.project)}" data-task="${esc(t.task)}" transform="translate(${p.x},${p.y})"><title>${esc(t.task)} ${esc(state)}: ${esc(t.title)}</title><rect width="${NW}" height="${NH}" rx="6"/><text x="8" y="19">${esc(label)}</text></g>`;
  });
  const legend = ["QUEUED", "IN_PROGRESS", "REVIEW", "DONE", "FAILED", "BLOCKED", "SKIPPED", "CANCELLED"]
    .map((s) => `<span class="badge s-${s}">${s === "IN_PROGRESS" ? "RUNNING" : s}</span>`)
    .join(" ");
  return `<h2>Graph <small class="muted">by dependency level; a click opens the task</small></h2><div class="legend">${legend} <span class="muted small">dashed edge: a condition (on failure / always)</span></div><div class="scrollx graph"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="dependency graph">${edges.join("")}${nodes.join("")}</svg></div>`;
}

const TIMELINE_MAX = 300;

/** Every attempt on one time axis (like a Gantt chart): queued (pale), running, in review; coloured by how it ended. */
export function renderTimeline(v: OrderViewJson, attempts: AttemptJson[]): string {
  if (attempts.length === 0) return `<h2>Timeline</h2><p class="muted">No attempt has started yet.</p>`;
  const now = Date.parse(v.generated_at);
  const shown = attempts.slice(-TIMELINE_MAX);
  const taskOrder: string[] = [];
  for (const a of shown) if (!taskOrder.includes(a.task)) taskOrder.push(a.task);
  const rowOf = new Map(taskOrder.map((t, i) => [t, i]));
  const from = Math.min(...shown.map((a) => a.ready_at));
  const to = Math.max(now, ...shown.map((a) => a.finished_at ?? now));
  const span = Math.max(1000, to - from);
  const LW = 110;
  const W = 900;
  const RH = 20;
  const x = (t: number) => LW + ((t - from) / span) * (W - LW - 10);
  const bars = shown.map((a) => {
    const y = rowOf.get(a.task)! * RH + 4;
    const end = a.finished_at ?? now;
    const runEnd = a.review_at ?? end;
    const cls = a.finished_at === null ? "running" : a.outcome === "succeeded" ? "ok" : a.outcome === "killed" || a.outcome === "preempted" ? "killed" : "bad";
    const tip = `${a.task} attempt ${a.attempt}: queued ${duration((a.started_at - a.ready_at) / 1000)}, ran ${duration((runEnd - a.started_at) / 1000)}${
      a.review_at !== null ? `, review ${duration((end - a.review_at) / 1000)}` : ""
    }, ${a.finished_at === null ? "running" : a.outcome}`;
    const q = x(a.started_at) - x(a.ready_at);
    const r = Math.max(2, x(runEnd) - x(a.started_at));
    const rv = a.review_at !== null ? `<rect class="review" x="${x(a.review_at).toFixed(1)}" y="${y}" width="${Math.max(2, x(end) - x(a.review_at)).toFixed(1)}" height="${RH - 6}"/>` : "";
    return `<g data-attempt="${esc(a.task)}/${a.attempt}"><title>${esc(tip)}</title>${q > 0.5 ? `<rect class="queued" x="${x(a.ready_at).toFixed(1)}" y="${y + 4}" width="${q.toFixed(1)}" height="${RH - 14}"/>` : ""}<rect class="${cls}" x="${x(a.started_at).toFixed(1)}" y="${y}" width="${r.toFixed(1)}" height="${RH - 6}"/>${rv}</g>`;
  });
  const labels = taskOrder.map((t, i) => `<text class="tl-label" x="4" y="${i * RH + 15}" data-action="task" data-project="${esc(v.project)}" data-task="${esc(t)}">${esc(t.length > 14 ? `${t.slice(0, 13)}…` : t)}</text>`);
  const H = taskOrder.length * RH + 8;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const t = from + f * span;
      return `<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="0" y2="${H}"/><text class="tick-l" x="${x(t).toFixed(1)}" y="${H + 12}"${f === 1 ? ' text-anchor="end"' : ""}>${esc(new Date(t).toISOString().slice(11, 19))}</text>`;
    })
    .join("");
  const note = attempts.length > shown.length ? ` — the latest ${shown.length} of ${attempts.length}` : "";
  return `<h2>Timeline <small class="muted">every attempt: queued (thin), ran, review (purple); UTC${esc(note)}</small></h2><div class="scrollx timeline"><svg viewBox="0 0 ${W} ${H + 16}" width="${W}" height="${H + 16}" role="img" aria-label="timeline of attempts">${ticks}${labels.join("")}${bars.join("")}</svg></div>`;
}

function explainList(e: Explanation): string {
  return `<li><b>${esc(e.task)}</b> <span class="badge s-${esc(e.status)}">${esc(e.status === "IN_PROGRESS" ? "RUNNING" : e.status)}</span> ${esc(e.summary)}${
    e.because.length ? `<ul>${e.because.map(explainList).join("")}</ul>` : ""
  }</li>`;
}

/** The task panel: why it is where it is (the explain chain) and its attempts; the client adds the log as text. */
export function renderTaskDetail(d: TaskDetailJson): string {
  const rows = d.attempts
    .slice()
    .reverse()
    .map(
      (a) => `<tr data-run="${a.attempt}"><td>${a.attempt}</td><td>${esc(new Date(a.started_at).toISOString().slice(5, 19).replace("T", " "))}</td><td>${esc(duration((a.started_at - a.ready_at) / 1000))}</td><td>${esc(
        duration(((a.finished_at ?? Date.now()) - a.started_at) / 1000),
      )}</td><td>${esc(a.finished_at === null ? "running" : a.outcome)}${a.exit_code !== null && a.exit_code !== 0 ? ` (exit ${esc(a.exit_code)})` : ""}</td><td>${a.cost_usd !== null ? `$${esc(a.cost_usd.toFixed(4))}` : ""}</td></tr>`,
    )
    .join("");
  return `<div class="detail" data-detail="${esc(d.task)}"><div class="dtitle">${esc(d.title)}</div><ul class="explain">${explainList(d.explain)}</ul>${
    d.attempts.length
      ? `<table class="runs"><thead><tr><th>#</th><th>started</th><th>queued</th><th>ran</th><th>outcome</th><th>cost</th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p class="muted small">No attempt yet.</p>'
  }</div>`;
}

/** Attempts ended per 5 minutes over the last hour: successes up (green), failures down (red). */
function trendChart(trend: OrderViewJson["trend"]): string {
  const W = 360;
  const H = 60;
  const max = Math.max(1, ...trend.map((p) => Math.max(p.succeeded, p.failed)));
  const bw = W / trend.length;
  const bars = trend
    .map((p, i) => {
      const up = (p.succeeded / max) * (H / 2 - 2);
      const down = (p.failed / max) * (H / 2 - 2);
      const when = new Date(p.t).toISOString().slice(11, 16);
      return `<g><title>${esc(when)}: ${p.succeeded} succeeded, ${p.failed} failed</title><rect class="ok" x="${(i * bw + 2).toFixed(1)}" y="${(H / 2 - up).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${up.toFixed(1)}"/><rect class="bad" x="${(i * bw + 2).toFixed(1)}" y="${H / 2}" width="${(bw - 4).toFixed(1)}" height="${down.toFixed(1)}"/></g>`;
    })
    .join("");
  const failed = trend.reduce((a, p) => a + p.failed, 0);
  return `<figure class="trend"><figcaption>Attempts ended per 5 min, last hour — <b>${failed}</b> failed</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="error trend"><line x1="0" x2="${W}" y1="${H / 2}" y2="${H / 2}" class="mid"/>${bars}</svg></figure>`;
}

/**
 * A machine chart. The line's x is seconds since the first sample shown
 * (`data-base`), and the last hour is picked by the viewBox: a new sample
 * (the `machine` event) is one point the page's script appends, and the
 * window moves by changing the viewBox — nothing is fetched again.
 */
function chart(key: string, points: Array<{ t: number; v: number | null }>, opts: { label: string; max: number; threshold?: number; unit: string }): string {
  const H = 120;
  const now = points.length ? points[points.length - 1]!.t : Date.now();
  const first = points[0]?.t ?? now;
  // The last hour, or since the first sample when the server is younger than that.
  const span = Math.min(3600_000, Math.max(60_000, now - first));
  const from = now - span;
  const x = (t: number) => ((t - first) / 1000).toFixed(1);
  const y = (v: number) => (H - (Math.min(v, opts.max) / opts.max) * H).toFixed(1);
  const line = points
    .filter((p) => p.v !== null)
    .map((p) => `${x(p.t)},${y(p.v!)}`)
    .join(" ");
  const last = [...points].reverse().find((p) => p.v !== null)?.v;
  const th =
    opts.threshold !== undefined
      ? `<line class="threshold" x1="-1000000" x2="100000000" y1="${y(opts.threshold)}" y2="${y(opts.threshold)}"><title>limit ${opts.threshold}${opts.unit}</title></line>`
      : "";
  const limit = opts.threshold !== undefined ? ` <span class="tl">limit ${esc(opts.threshold)}${esc(opts.unit)}</span>` : "";
  return `<figure class="chart" data-key="${esc(key)}" data-max="${opts.max}" data-unit="${esc(opts.unit)}" data-base="${first}"><figcaption>${esc(opts.label)} <b>${
    last === undefined ? "—" : `${last}${opts.unit}`
  }</b>${limit}</figcaption><svg viewBox="${x(from)} 0 ${(span / 1000).toFixed(1)} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(opts.label)}"><rect x="-1000000" width="100000000" height="${H}" class="bg"/>${th}<polyline points="${line}"/></svg><div class="axis"><span>-${
    span >= 3600_000 ? "60 min" : `${Math.round(span / 60_000)} min`
  }</span><span>now</span></div></figure>`;
}

export function renderMachine(m: MachineJson): string {
  const pts = m.points;
  const charts = [
    chart("cpu", pts.map((p) => ({ t: p.t, v: p.cpu })), { label: "CPU", max: 100, threshold: m.max_cpu, unit: "%" }),
    chart("mem", pts.map((p) => ({ t: p.t, v: p.mem })), { label: "Memory (without cache)", max: 100, threshold: m.max_memory, unit: "%" }),
    chart("workers", pts.map((p) => ({ t: p.t, v: p.workers })), { label: "Effective workers", max: Math.max(1, m.max_workers), threshold: m.max_workers, unit: "" }),
    chart("disk_db", pts.map((p) => ({ t: p.t, v: p.disk_db ?? null })), { label: "Disk (database)", max: 100, threshold: DISK_WARN, unit: "%" }),
  ];
  if (pts.some((p) => p.disk_root != null && p.disk_root !== p.disk_db)) {
    charts.push(chart("disk_root", pts.map((p) => ({ t: p.t, v: p.disk_root ?? null })), { label: "Disk (project roots)", max: 100, threshold: DISK_WARN, unit: "%" }));
  }
  if (pts.some((p) => p.gpu !== null)) charts.push(chart("gpu", pts.map((p) => ({ t: p.t, v: p.gpu })), { label: "GPU", max: 100, unit: "%" }));
  if (pts.some((p) => p.gpu_mem != null)) charts.push(chart("gpu_mem", pts.map((p) => ({ t: p.t, v: p.gpu_mem ?? null })), { label: "GPU memory", max: 100, unit: "%" }));
  return `<h2>Machine <small class="muted">last hour, every ${esc(m.interval_s)} s; dashed: the auto-scaling limits (disk: ${DISK_WARN}%)</small></h2><div class="charts">${charts.join("")}</div>`;
}

const DISK_WARN = 90;

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1d2433;background:#f4f6fa;display:flex;min-height:100vh}
aside{width:260px;background:#1d2433;color:#dfe6f3;padding:12px;overflow:auto;flex-shrink:0}aside h2{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:#8fa0bf;margin:14px 0 4px}
aside ul{list-style:none;margin:0;padding:0}aside li{padding:6px 8px;border-radius:6px;margin-bottom:4px}aside li.current{background:#2f3a52}aside a{color:#fff;font-weight:600;text-decoration:none}
aside .title{font-size:12px;color:#aab6cc}aside .counts{margin-top:3px}aside .brand{font-weight:700;font-size:16px;color:#fff}.top{display:flex;justify-content:space-between;align-items:center;gap:8px}
#menu,.menubtn{display:none}
main{flex:1;min-width:0;padding:16px 22px;overflow:auto}header{display:flex;justify-content:space-between;align-items:flex-start;gap:10px;flex-wrap:wrap}h1{margin:0;font-size:22px}h1 small{font-weight:400;color:#6b7890;font-size:14px}
h2{font-size:15px;margin:20px 0 8px}.title{color:#55627a}.muted{color:#7d889c}.small{font-size:11px}
.badge{display:inline-block;padding:1px 6px;border-radius:9px;font-size:11px;font-weight:600;background:#dde3ee;color:#334;white-space:nowrap}
.s-IN_PROGRESS{background:#2d7ff9;color:#fff}.s-REVIEW{background:#8b5cf6;color:#fff}.s-DONE{background:#1f9d55;color:#fff}.s-FAILED{background:#d64545;color:#fff}
.s-CANCELLED{background:#7d889c;color:#fff}.s-SKIPPED{background:#b8c0cc;color:#223}.s-BLOCKED{background:#f0a020;color:#fff}.s-QUEUED{background:#dde3ee}.paused{background:#f0a020;color:#fff}
.kpis{display:flex;gap:10px;margin:12px 0;flex-wrap:wrap}.kpi{background:#fff;border-radius:8px;padding:8px 14px;min-width:110px;box-shadow:0 1px 2px #0001}.kpi .v{font-size:18px;font-weight:700}.kpi .l{font-size:11px;color:#6b7890}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 2px #0001}th,td{padding:5px 8px;text-align:left;border-bottom:1px solid #eef1f6;vertical-align:top}
th{font-size:11px;text-transform:uppercase;color:#6b7890;background:#fafbfd}tr.level td{background:#eef2f8;font-size:11px;font-weight:600;color:#55627a}td.id{font-weight:600;white-space:nowrap}td.id a{color:inherit}
.why{font-size:11px;color:#8a5a00;margin-top:2px}.why[data-why=ready]{color:#1f9d55}.why[data-why=blocked]{color:#b3261e}
code{font:12px ui-monospace,monospace;background:#eef1f6;padding:0 3px;border-radius:3px;overflow-wrap:anywhere}.files code{margin-right:2px}.deps{color:#55627a}
.bar{position:relative;width:110px;height:16px;background:#e4e9f2;border-radius:8px;overflow:hidden}.bar div{height:100%;background:#2d7ff9}.bar span{position:absolute;inset:0;text-align:center;font-size:11px;line-height:16px}
.kind{font-size:11px;color:#b3261e;font-weight:600}button{font:12px system-ui;border:1px solid #c9d2e0;background:#fff;border-radius:5px;padding:2px 7px;cursor:pointer;margin-right:3px}
button:hover{background:#eef3ff}button.danger{color:#b3261e;border-color:#e7b5b0}.controls{display:flex;gap:10px;align-items:center;flex-wrap:wrap}.controls button{font-size:13px;padding:4px 10px}.scale b{display:inline-block;min-width:22px;text-align:center}
.views{display:flex;gap:4px;margin:14px 0 0;border-bottom:1px solid #d5dceb}.views a{padding:6px 14px;text-decoration:none;color:#55627a;border-radius:6px 6px 0 0}.views a.on{background:#fff;color:#1d2433;font-weight:600;box-shadow:0 -1px 2px #0001}
.failure{background:#fff;border-left:4px solid #d64545;padding:6px 10px;margin-bottom:8px;border-radius:4px}pre{background:#111827;color:#d6e2ff;padding:8px;border-radius:6px;overflow:auto;max-height:260px;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0;background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 2px #0001;width:380px;max-width:100%}.chart svg{width:100%;height:110px;display:block}
.chart .bg{fill:#fafbfd}.chart polyline{fill:none;stroke:#2d7ff9;stroke-width:2;vector-effect:non-scaling-stroke}.chart .threshold{stroke:#d64545;stroke-dasharray:6 4;stroke-width:1.5;vector-effect:non-scaling-stroke}
.chart .tl{font-size:10px;color:#d64545;font-weight:400}
.filters{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:0 0 8px}.filters input[type=search]{flex:1 1 220px;max-width:420px;font:14px system-ui;padding:5px 8px;border:1px solid #c9d2e0;border-radius:6px}
.filters label{font-size:13px;white-space:nowrap}tr.more td{text-align:center}tr.more button{font-size:13px;padding:6px 14px}.trend{margin:0 0 8px;background:#fff;border-radius:8px;padding:6px 10px;width:400px;max-width:100%;box-shadow:0 1px 2px #0001;font-size:12px;color:#55627a}
.trend svg{width:100%;height:60px;display:block}.trend .ok{fill:#1f9d55}.trend .bad{fill:#d64545}.trend .mid{stroke:#c9d2e0}.axis{display:flex;justify-content:space-between;font-size:10px;color:#7d889c}
.scrollx{overflow:auto;max-width:100%;background:#fff;border-radius:8px;box-shadow:0 1px 2px #0001;padding:6px;max-height:70vh}.legend{margin-bottom:6px}
.graph .node{cursor:pointer}.graph .node rect{fill:#dde3ee;stroke:#9aa6bb}.graph .node text{font-size:12px;font-weight:600;fill:#1d2433}
.graph .n-IN_PROGRESS rect{fill:#2d7ff9}.graph .n-REVIEW rect{fill:#8b5cf6}.graph .n-DONE rect{fill:#1f9d55}.graph .n-FAILED rect{fill:#d64545}.graph .n-CANCELLED rect{fill:#7d889c}.graph .n-BLOCKED rect{fill:#f0a020}.graph .n-SKIPPED rect{fill:#b8c0cc}
.graph .n-IN_PROGRESS text,.graph .n-REVIEW text,.graph .n-DONE text,.graph .n-FAILED text,.graph .n-CANCELLED text,.graph .n-BLOCKED text{fill:#fff}
.graph .edge{fill:none;stroke:#9aa6bb;stroke-width:1.3}.graph .edge.c-failure{stroke:#d64545;stroke-dasharray:5 3}.graph .edge.c-always{stroke:#8b5cf6;stroke-dasharray:5 3}.graph .elabel{font-size:10px;fill:#55627a;text-anchor:middle}
.timeline .queued{fill:#c9d2e0}.timeline .ok{fill:#1f9d55}.timeline .bad{fill:#d64545}.timeline .killed{fill:#7d889c}.timeline .running{fill:#2d7ff9}.timeline .review{fill:#8b5cf6}
.timeline .tl-label{font-size:11px;font-weight:600;fill:#1d2433;cursor:pointer}.timeline .tick{stroke:#eef1f6}.timeline .tick-l{font-size:10px;fill:#7d889c;text-anchor:middle}
#logpanel{position:fixed;right:16px;bottom:16px;width:min(720px,60vw);max-height:80vh;overflow:auto;background:#111827;color:#dfe6f3;border-radius:10px;box-shadow:0 6px 24px #0005;padding:8px;z-index:5}#logpanel h3{color:#fff;margin:0 0 6px;font-size:13px;display:flex;justify-content:space-between;gap:8px}
#logpanel pre{max-height:300px;margin:0}#logpanel .detail{font-size:12px;margin-bottom:6px}#logpanel .explain{margin:4px 0;padding-left:16px}#logpanel .explain ul{padding-left:16px}
#logpanel table{background:#1d2433;color:#dfe6f3;font-size:12px;margin:6px 0}#logpanel th{background:#2f3a52;color:#aab6cc}#logpanel td,#logpanel th{border-color:#2f3a52;padding:2px 6px}
#live{font-size:11px;color:#8fa0bf}#live.on::before{content:"● ";color:#1f9d55}#live.off{color:#f0a020}
@media (max-width:760px){
body{display:block}aside{width:auto;padding:8px 12px;position:sticky;top:0;z-index:4}
.menubtn{display:inline-block;color:#fff;border:1px solid #55627a;border-radius:6px;padding:4px 10px;cursor:pointer;font-size:13px}
#sidebar{display:none}#menu:checked~#sidebar{display:block;max-height:70vh;overflow:auto}
main{padding:10px 10px 80px;overflow:visible}h1{font-size:18px}.kpi{min-width:0;flex:1 1 28%;padding:6px 8px}.kpi .v{font-size:15px}
table.tasks,table.tasks tbody,table.tasks tr,table.tasks td,table.workers,table.workers tbody,table.workers tr,table.workers td{display:block;width:auto}
table.tasks thead,table.workers thead{display:none}table.tasks,table.workers{background:none;box-shadow:none}
table.tasks tr[data-task],table.workers tr{display:grid;grid-template-columns:1fr auto;gap:2px 8px;background:#fff;border-radius:8px;margin:0 0 8px;padding:8px 10px;box-shadow:0 1px 2px #0002}
table.tasks tr.level td{background:none;padding:8px 2px 4px}table.tasks tr.more td{padding:4px 0 10px}.filters input[type=search]{font-size:16px;min-width:0}table.tasks td,table.workers td{border:0;padding:0}
table.tasks td.id{grid-column:1;font-size:15px}table.tasks td.st{grid-column:2;grid-row:1;text-align:right}table.tasks td.ttl,table.tasks td.deps,table.tasks td.fail,table.tasks td.progress{grid-column:1/3}
table.tasks td.ttl{color:#55627a}table.tasks td.files,table.tasks td.cost,table.tasks td.pri{display:none}table.tasks td.tries,table.tasks td.time{font-size:12px;color:#55627a}
table.tasks td.tries::before{content:"tries "}table.tasks td:empty{display:none}.bar{width:100%}
table.tasks td.actions{grid-column:1/3;display:flex;gap:10px;justify-content:flex-end;margin-top:8px;padding-top:8px;border-top:1px solid #eef1f6}
table.tasks td.actions button{font-size:14px;padding:7px 14px;margin:0}table.tasks td.actions button[data-action=log]{margin-right:auto}
table.workers td.out{grid-column:1/3}table.workers td[data-label]::before{content:attr(data-label) " ";color:#7d889c;font-size:11px}
.controls button{padding:7px 12px}.trend{width:100%}.chart{width:100%}
#logpanel{left:0;right:0;bottom:0;width:auto;max-height:85vh;border-radius:12px 12px 0 0}#logpanel pre{max-height:45vh}
}
`;

export function renderPage(p: {
  overview: OverviewJson;
  current: { project: string; order: string } | null;
  orderHtml: string;
  machineHtml: string;
  csrf: string;
  view?: OrderViewKind;
}): string {
  const title = p.current ? `${p.current.order} · ${p.current.project} · aipm` : "aipm dashboard";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="csrf-token" content="${esc(p.csrf)}"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><aside><div class="top"><div class="brand">aipm</div><div id="live" class="off">connecting…</div><label class="menubtn" for="menu">☰ Orders</label></div><input type="checkbox" id="menu"><nav id="sidebar">${renderSidebar(p.overview, p.current)}</nav></aside>
<main><section id="order"${p.current ? ` data-project="${esc(p.current.project)}" data-order="${esc(p.current.order)}"` : ""} data-view="${esc(p.view ?? "tasks")}">${p.orderHtml}</section>
<section id="machine">${p.machineHtml}</section></main>
<div id="logpanel" hidden><h3><span id="logtitle"></span><button data-action="closelog">close</button></h3><div id="taskdetail"></div><pre id="logtext"></pre></div>
<script>${CLIENT_SCRIPT}</script></body></html>`;
}
