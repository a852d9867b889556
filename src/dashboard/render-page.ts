/**
 * The dashboard's HTML, rendered on the server: the page carries its data
 * (curl shows the tasks, not an empty shell), and live updates fetch the same
 * fragments again (`?fragment=order|sidebar|machine`) — one renderer, and all
 * task text goes through `esc`: a task titled `<script>` shows as text.
 * Styles and the small client script are inline: nothing is loaded from
 * anywhere else.
 */
import type { MachineJson } from "./machine-history.js";
import type { DashboardTask, OrderViewJson, OverviewJson } from "./dashboard-data.js";
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

function counts(c: Record<string, number>): string {
  const order = ["IN_PROGRESS", "REVIEW", "QUEUED", "DONE", "FAILED", "CANCELLED", "SKIPPED", "BLOCKED"];
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

function progressBar(t: DashboardTask): string {
  if (!t.progress) return "";
  const pct = t.progress.total > 0 ? Math.min(100, Math.round((t.progress.done / t.progress.total) * 100)) : 0;
  return `<div class="bar" data-progress="${t.progress.done}/${t.progress.total}"><div style="width:${pct}%"></div><span>${t.progress.done}/${t.progress.total}</span></div>`;
}

function actions(t: DashboardTask): string {
  const b = (action: string, label: string, cls = "") =>
    `<button data-action="${action}" data-project="${esc(t.project)}" data-task="${esc(t.task)}"${cls ? ` class="${cls}"` : ""}>${label}</button>`;
  const out = [b("log", "Log")];
  if (t.status === "IN_PROGRESS" || t.status === "REVIEW") out.push(b("kill", "Kill", "danger"), b("requeue", "Requeue"));
  if (t.status === "QUEUED") out.push(b("kill", "Cancel", "danger"));
  if (t.status === "FAILED" || t.status === "CANCELLED" || t.status === "SKIPPED") out.push(b("retry", "Retry"));
  return out.join("");
}

function taskRow(t: DashboardTask): string {
  const state = t.blocked ? "BLOCKED" : t.status;
  const usd = t.cost_usd !== null ? `$${t.cost_usd.toFixed(4)}` : "";
  return `<tr data-task="${esc(t.task)}" data-status="${esc(t.status)}">
<td class="id">${esc(t.task)}</td><td>${esc(t.title)}</td>
<td><span class="badge s-${esc(state)}">${esc(state === "IN_PROGRESS" ? "RUNNING" : state)}</span>${t.blocked ? `<div class="muted">by ${esc(t.failed_dependency)}</div>` : ""}</td>
<td>${esc(t.priority)}</td>
<td class="deps">${t.deps.length ? `after ${t.deps.map(esc).join(", ")}` : ""}</td>
<td class="files">${t.target_files.map((f) => `<code>${esc(f)}</code>`).join(" ")}</td>
<td>${esc(t.attempt)}/${esc(t.max_attempts)}</td>
<td class="progress">${progressBar(t)}</td>
<td>${esc(duration(t.elapsed_s))}</td>
<td>${t.failure_kind ? `<span class="kind">${esc(t.failure_kind)}</span>` : ""}${t.out_of_scope.length ? ` <span class="kind" title="${esc(t.out_of_scope.join(", "))}">out of scope</span>` : ""}</td>
<td>${esc(usd)}</td>
<td class="actions">${actions(t)}</td></tr>`;
}

export function renderOrder(v: OrderViewJson): string {
  const byLevel = new Map<number, DashboardTask[]>();
  for (const t of v.tasks) byLevel.set(t.level, [...(byLevel.get(t.level) ?? []), t]);
  const k = v.kpis;
  const kpi = (label: string, value: string) => `<div class="kpi"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
  const head = `<header><div><h1>${esc(v.order)} <small>${esc(v.project)}</small></h1><div class="title">${esc(v.title)}</div></div>
<div class="controls">${v.paused ? '<span class="badge paused">PAUSED</span>' : ""}
<button data-action="${v.paused ? "resume" : "pause"}" data-project="${esc(v.project)}" data-order="${esc(v.order)}">${v.paused ? "Resume" : "Pause"} order</button></div></header>
<div class="counts">${counts(v.counts)}</div>
<div class="kpis">${kpi("done", String(k.done))}${kpi("failed", String(k.failed))}${kpi("success rate", k.success_rate === null ? "—" : `${k.success_rate}%`)}${kpi(
    "throughput",
    k.throughput_per_min === null ? "—" : `${k.throughput_per_min}/min`,
  )}${kpi("avg duration", k.avg_duration_s === null ? "—" : duration(k.avg_duration_s))}${kpi("agent cost", k.cost_usd === null ? "—" : `$${k.cost_usd.toFixed(4)}`)}</div>`;
  const levels = [...byLevel.keys()].sort((a, b) => a - b);
  const tasks = `<h2>Tasks</h2><table class="tasks"><thead><tr><th>task</th><th>title</th><th>status</th><th>pri</th><th>deps</th><th>files</th><th>tries</th><th>progress</th><th>time</th><th>failure</th><th>cost</th><th></th></tr></thead>${levels
    .map(
      (l) => `<tbody><tr class="level"><td colspan="12">${l === 0 ? "Level 0 — no dependencies" : `Level ${l} — after level ${l - 1}`}</td></tr>${byLevel
        .get(l)!
        .map(taskRow)
        .join("")}</tbody>`,
    )
    .join("")}</table>`;
  const byId = new Map(v.tasks.map((t) => [t.task, t]));
  const workers = v.workers.length
    ? `<h2>Running workers</h2><table class="workers"><thead><tr><th>task</th><th>pid</th><th>attempt</th><th>elapsed</th><th>progress</th><th>last output</th></tr></thead><tbody>${v.workers
        .map(
          (w) => `<tr data-worker="${esc(w.task)}"><td class="id">${esc(w.task)}${w.status === "REVIEW" ? ' <span class="badge s-REVIEW">REVIEW</span>' : ""}</td><td>${esc(w.pid)}</td><td>${esc(
            w.attempt,
          )}</td><td>${esc(duration(w.elapsed_s))}</td><td>${byId.get(w.task) ? progressBar(byId.get(w.task)!) : ""}</td><td class="out"><button data-action="log" data-project="${esc(w.project)}" data-task="${esc(w.task)}">tail</button> <code>${esc(w.last_output)}</code></td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  const locks = v.locks.length
    ? `<h2>Locks</h2><table class="locks"><tbody>${v.locks.map((l) => `<tr><td><code>${esc(l.file)}</code></td><td>${esc(l.task)}</td><td class="muted">${esc(l.acquired_at)}</td></tr>`).join("")}</tbody></table>`
    : "";
  const failures = v.failures.length
    ? `<h2>Failures</h2>${v.failures
        .map(
          (f) => `<div class="failure" data-failure="${esc(f.task)}"><div><b>${esc(f.task)}</b> <span class="kind">${esc(f.failure_kind)}</span> after ${esc(f.attempts)} attempt(s): ${esc(
            f.error,
          )}</div><pre>${esc(f.log_tail)}</pre></div>`,
        )
        .join("")}`
    : "";
  return `${head}${trendChart(v.trend)}${tasks}${workers}${locks}${failures}<p class="muted small">updated ${esc(v.generated_at)}</p>`;
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

function chart(points: Array<{ t: number; v: number | null }>, opts: { label: string; max: number; threshold?: number; unit: string }): string {
  const W = 560;
  const H = 120;
  const now = points.length ? points[points.length - 1]!.t : Date.now();
  // The last hour, or since the first sample when the server is younger than that.
  const span = Math.min(3600_000, Math.max(60_000, now - (points[0]?.t ?? now)));
  const from = now - span;
  const x = (t: number) => ((t - from) / span) * W;
  const y = (v: number) => H - (Math.min(v, opts.max) / opts.max) * H;
  const line = points
    .filter((p) => p.v !== null)
    .map((p) => `${x(p.t).toFixed(1)},${y(p.v!).toFixed(1)}`)
    .join(" ");
  const last = [...points].reverse().find((p) => p.v !== null)?.v;
  const th =
    opts.threshold !== undefined
      ? `<line class="threshold" x1="0" x2="${W}" y1="${y(opts.threshold).toFixed(1)}" y2="${y(opts.threshold).toFixed(1)}"><title>limit ${opts.threshold}${opts.unit}</title></line><text class="tl" x="${W - 4}" y="${(y(opts.threshold) - 3).toFixed(1)}">limit ${opts.threshold}${opts.unit}</text>`
      : "";
  return `<figure class="chart"><figcaption>${esc(opts.label)} <b>${last === undefined ? "—" : `${last}${opts.unit}`}</b></figcaption><svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(opts.label)}"><rect width="${W}" height="${H}" class="bg"/>${th}<polyline points="${line}"/></svg><div class="axis"><span>-${span >= 3600_000 ? "60 min" : `${Math.round(span / 60_000)} min`}</span><span>now</span></div></figure>`;
}

export function renderMachine(m: MachineJson): string {
  const pts = m.points;
  const charts = [
    chart(pts.map((p) => ({ t: p.t, v: p.cpu })), { label: "CPU", max: 100, threshold: m.max_cpu, unit: "%" }),
    chart(pts.map((p) => ({ t: p.t, v: p.mem })), { label: "Memory (without cache)", max: 100, threshold: m.max_memory, unit: "%" }),
    chart(pts.map((p) => ({ t: p.t, v: p.workers })), { label: "Effective workers", max: Math.max(1, m.max_workers), threshold: m.max_workers, unit: "" }),
  ];
  if (pts.some((p) => p.gpu !== null)) charts.push(chart(pts.map((p) => ({ t: p.t, v: p.gpu })), { label: "GPU", max: 100, unit: "%" }));
  return `<h2>Machine <small class="muted">last hour, every ${esc(m.interval_s)} s; dashed: the auto-scaling limits</small></h2><div class="charts">${charts.join("")}</div>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1d2433;background:#f4f6fa;display:flex;min-height:100vh}
aside{width:260px;background:#1d2433;color:#dfe6f3;padding:12px;overflow:auto;flex-shrink:0}aside h2{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:#8fa0bf;margin:14px 0 4px}
aside ul{list-style:none;margin:0;padding:0}aside li{padding:6px 8px;border-radius:6px;margin-bottom:4px}aside li.current{background:#2f3a52}aside a{color:#fff;font-weight:600;text-decoration:none}
aside .title{font-size:12px;color:#aab6cc}aside .counts{margin-top:3px}aside .brand{font-weight:700;font-size:16px;color:#fff}
main{flex:1;padding:16px 22px;overflow:auto}header{display:flex;justify-content:space-between;align-items:flex-start}h1{margin:0;font-size:22px}h1 small{font-weight:400;color:#6b7890;font-size:14px}
h2{font-size:15px;margin:20px 0 8px}.title{color:#55627a}.muted{color:#7d889c}.small{font-size:11px}
.badge{display:inline-block;padding:1px 6px;border-radius:9px;font-size:11px;font-weight:600;background:#dde3ee;color:#334}
.s-IN_PROGRESS{background:#2d7ff9;color:#fff}.s-REVIEW{background:#8b5cf6;color:#fff}.s-DONE{background:#1f9d55;color:#fff}.s-FAILED{background:#d64545;color:#fff}
.s-CANCELLED{background:#7d889c;color:#fff}.s-SKIPPED{background:#b8c0cc;color:#223}.s-BLOCKED{background:#f0a020;color:#fff}.s-QUEUED{background:#dde3ee}.paused{background:#f0a020;color:#fff}
.kpis{display:flex;gap:10px;margin:12px 0;flex-wrap:wrap}.kpi{background:#fff;border-radius:8px;padding:8px 14px;min-width:110px;box-shadow:0 1px 2px #0001}.kpi .v{font-size:18px;font-weight:700}.kpi .l{font-size:11px;color:#6b7890}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 2px #0001}th,td{padding:5px 8px;text-align:left;border-bottom:1px solid #eef1f6;vertical-align:top}
th{font-size:11px;text-transform:uppercase;color:#6b7890;background:#fafbfd}tr.level td{background:#eef2f8;font-size:11px;font-weight:600;color:#55627a}td.id{font-weight:600;white-space:nowrap}
code{font:12px ui-monospace,monospace;background:#eef1f6;padding:0 3px;border-radius:3px}.files code{margin-right:2px}.deps{color:#55627a;white-space:nowrap}
.bar{position:relative;width:110px;height:16px;background:#e4e9f2;border-radius:8px;overflow:hidden}.bar div{height:100%;background:#2d7ff9}.bar span{position:absolute;inset:0;text-align:center;font-size:11px;line-height:16px}
.kind{font-size:11px;color:#b3261e;font-weight:600}button{font:12px system-ui;border:1px solid #c9d2e0;background:#fff;border-radius:5px;padding:2px 7px;cursor:pointer;margin-right:3px}
button:hover{background:#eef3ff}button.danger{color:#b3261e;border-color:#e7b5b0}.controls button{font-size:13px;padding:4px 10px}
.failure{background:#fff;border-left:4px solid #d64545;padding:6px 10px;margin-bottom:8px;border-radius:4px}pre{background:#111827;color:#d6e2ff;padding:8px;border-radius:6px;overflow:auto;max-height:260px;font-size:12px;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0;background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 2px #0001;width:380px}.chart svg{width:100%;height:110px;display:block}
.chart .bg{fill:#fafbfd}.chart polyline{fill:none;stroke:#2d7ff9;stroke-width:2;vector-effect:non-scaling-stroke}.chart .threshold{stroke:#d64545;stroke-dasharray:6 4;stroke-width:1.5;vector-effect:non-scaling-stroke}
.chart .tl{font-size:10px;fill:#d64545;text-anchor:end}.trend{margin:0 0 8px;background:#fff;border-radius:8px;padding:6px 10px;width:400px;box-shadow:0 1px 2px #0001;font-size:12px;color:#55627a}
.trend svg{width:100%;height:60px;display:block}.trend .ok{fill:#1f9d55}.trend .bad{fill:#d64545}.trend .mid{stroke:#c9d2e0}.axis{display:flex;justify-content:space-between;font-size:10px;color:#7d889c}
#logpanel{position:fixed;right:16px;bottom:16px;width:min(720px,60vw);background:#111827;border-radius:10px;box-shadow:0 6px 24px #0005;padding:8px}#logpanel h3{color:#fff;margin:0 0 6px;font-size:13px;display:flex;justify-content:space-between}
#logpanel pre{max-height:300px;margin:0}#live{font-size:11px;color:#8fa0bf}#live.on::before{content:"● ";color:#1f9d55}
`;

export function renderPage(p: {
  overview: OverviewJson;
  current: { project: string; order: string } | null;
  orderHtml: string;
  machineHtml: string;
  csrf: string;
}): string {
  const title = p.current ? `${p.current.order} · ${p.current.project} · aipm` : "aipm dashboard";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="csrf-token" content="${esc(p.csrf)}"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><aside><div class="brand">aipm</div><div id="live">connecting…</div><nav id="sidebar">${renderSidebar(p.overview, p.current)}</nav></aside>
<main><section id="order"${p.current ? ` data-project="${esc(p.current.project)}" data-order="${esc(p.current.order)}"` : ""}>${p.orderHtml}</section>
<section id="machine">${p.machineHtml}</section></main>
<div id="logpanel" hidden><h3><span id="logtitle"></span><button data-action="closelog">close</button></h3><pre id="logtext"></pre></div>
<script>${CLIENT_SCRIPT}</script></body></html>`;
}
