/**
 * `aipm status` at a glance: per order its counts, the workers running (task,
 * attempt, elapsed, progress, last output), what needs attention (failures,
 * permission denials, edits outside target_files) and what waits and why —
 * within a fixed number of lines whatever the project's size. Long sections
 * are cut (saying how many more), then whole orders (finished ones first);
 * `aipm status --all` prints everything.
 */
import type { StatusReport, TaskStatusJson, WorkerJson } from "../../report/status.js";
import { oneLine } from "../../report/next-step.js";
import { countsLine, usd } from "./status.js";
import { duration, fitWidth, when, type Style } from "./style.js";
import { attemptText, progressText, reasonKey, statusWord, waitingText } from "./task-words.js";
import { emptyCounts } from "../../report/status.js";

/** Lines the short view prints at most when not told otherwise. */
export const SHORT_MAX_LINES = 40;

interface Section {
  title: (shown: number) => string;
  items: string[];
  shown: number;
  /** Rows kept while other sections can still give some (waiting gives first). */
  keep: number;
}

interface Block {
  head: string;
  sections: Section[];
  /** Nothing runs, waits or needs attention: dropped first when space is short. */
  quiet: boolean;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function more(st: Style, hidden: number): string {
  return hidden > 0 ? st.dim(` (+${hidden} more: aipm status --all)`) : "";
}

function section(st: Style, name: string, items: string[], keep: number, detail = ""): Section {
  return {
    keep,
    title: (shown) => `  ${name} ${items.length}${detail}${more(st, items.length - shown)}`,
    items,
    shown: items.length,
  };
}

function runningLine(st: Style, t: TaskStatusJson, wk: WorkerJson | undefined, w: number): string {
  const elapsed = wk?.elapsed_s != null ? `${t.status === "REVIEW" ? "reviewing" : "running"} ${duration(wk.elapsed_s * 1000)}` : t.status.toLowerCase();
  const prog = progressText(t.progress);
  const last = wk?.last_output ? st.dim(`  ${wk.last_output}`) : "";
  return `    ${st.bold(pad(t.task, w))}${attemptText(t)}  ${st.cyan(elapsed)}${prog ? `  ${prog}` : ""}${last}`;
}

function attentionLines(st: Style, t: TaskStatusJson, w: number): string[] {
  const out: string[] = [];
  if (t.status === "FAILED") {
    const kind = t.failure_kind && t.failure_kind !== "exit_code" ? `${t.failure_kind}: ` : "";
    out.push(
      `    ${st.bold(pad(t.task, w))}${statusWord(st, "FAILED")}${t.finished_at ? ` ${when(st, t.finished_at)}` : ""} after ${attemptText(t)}: ${kind}${oneLine(t.error, 120) ?? "?"}`,
    );
  }
  if (t.permission_denials > 0) out.push(`    ${st.bold(pad(t.task, w))}${st.yellow(`${t.permission_denials} permission denial(s)`)} in its last attempt`);
  if (t.out_of_scope.length) out.push(`    ${st.bold(pad(t.task, w))}${st.yellow("edited outside its target_files")}: ${t.out_of_scope.slice(0, 3).join(", ")}${t.out_of_scope.length > 3 ? " ..." : ""}`);
  return out;
}

function waitingLine(st: Style, t: TaskStatusJson, w: number): string {
  const state = t.blocked ? `${statusWord(st, "BLOCKED")} (by ${t.failed_dependency})` : `${statusWord(st, "QUEUED")}  (${waitingText(st, t.waiting, t.retry_at)})`;
  return `    ${pad(t.task, w)}${t.priority}  ${state}`;
}

/** Waiting tasks worth reading first: blocked, then held back by a lock, a limit, a backoff; plain dependency waits last. */
const REASON_RANK: Record<string, number> = { blocked: 0, lock: 1, budget: 2, rate_limit: 3, paused: 4, backoff: 5, capacity: 6, ready: 7, dependency: 8 };

function orderBlock(st: Style, r: StatusReport, project: string, order: string, tasks: TaskStatusJson[]): Block {
  const o = r.orders.find((x) => x.project === project && x.order === order);
  const counts = emptyCounts();
  for (const t of tasks) {
    counts[t.status]++;
    if (t.blocked) counts.BLOCKED++;
  }
  const paused = o?.paused ? `  ${statusWord(st, "PAUSED")} (aipm resume ${project} ${order})` : "";
  const spent = o && o.cost_usd !== null ? st.dim(`  agents ${usd(o.cost_usd)}, ${o.num_turns ?? 0} turns`) : "";
  const head = `${st.bold(`${project}/${order}`)}${paused}  ${countsLine(counts, st)}${spent}`;
  const w = Math.max(8, ...tasks.map((t) => t.task.length)) + 2;
  const workers = new Map(r.workers.filter((x) => x.project === project).map((x) => [x.task, x]));

  const running = tasks.filter((t) => t.status === "IN_PROGRESS" || t.status === "REVIEW").map((t) => runningLine(st, t, workers.get(t.task), w));
  const attention = tasks.flatMap((t) => attentionLines(st, t, w));
  const queued = tasks.filter((t) => t.status === "QUEUED");
  const byReason = new Map<string, number>();
  for (const t of queued) byReason.set(reasonKey(t), (byReason.get(reasonKey(t)) ?? 0) + 1);
  const reasons = [...byReason].sort((a, b) => (REASON_RANK[a[0]] ?? 9) - (REASON_RANK[b[0]] ?? 9));
  const sorted = [...queued].sort((a, b) => (REASON_RANK[reasonKey(a)] ?? 9) - (REASON_RANK[reasonKey(b)] ?? 9));
  const sections: Section[] = [];
  if (running.length) sections.push(section(st, st.cyan("running"), running, 4));
  if (attention.length) sections.push(section(st, st.red("needs attention"), attention, 3));
  if (queued.length) {
    const detail = `: ${reasons.map(([k, n]) => `${n} ${k}`).join(", ")}`;
    sections.push(section(st, st.yellow("waiting"), sorted.map((t) => waitingLine(st, t, w)), 2, detail));
  }
  return { head, sections, quiet: sections.length === 0 };
}

function cost(b: Block, minimal: boolean): number {
  // A blank line and the head, then each section's title and its rows shown.
  return 2 + b.sections.reduce((n, s) => n + 1 + (minimal ? 0 : s.shown), 0);
}

/** Cuts rows, then whole orders, until the view fits in `maxLines`. */
function fitToLines(blocks: Block[], fixed: number, maxLines: number): { shown: Block[]; dropped: number } {
  const shown = [...blocks];
  let dropped = 0;
  const total = (minimal: boolean) => fixed + (dropped > 0 ? 2 : 0) + shown.reduce((n, b) => n + cost(b, minimal), 0);
  while (shown.length > 0 && total(true) > maxLines) {
    const quiet = shown.map((b) => b.quiet).lastIndexOf(true);
    shown.splice(quiet >= 0 ? quiet : shown.length - 1, 1);
    dropped++;
  }
  let over = total(false) - maxLines;
  // Take a row from the longest section still over what it keeps (the later one on a tie: waiting before
  // running), then from the longest of all.
  for (const floor of [true, false]) {
    while (over > 0) {
      let best: Section | null = null;
      for (const b of shown) for (const s of b.sections) if (s.shown > (floor ? s.keep : 0) && (!best || s.shown >= best.shown)) best = s;
      if (!best) break;
      best.shown--;
      over--;
    }
  }
  return { shown, dropped };
}

export interface ShortOptions {
  style: Style;
  maxLines?: number | undefined;
  /** Cut lines to this width (a terminal's); none when undefined. */
  cols?: number | undefined;
  /** Lines printed before the view (the resources line), counted in maxLines. */
  preamble?: string[] | undefined;
}

export function renderStatusShort(r: StatusReport, opts: ShortOptions): string {
  const st = opts.style;
  const maxLines = opts.maxLines ?? SHORT_MAX_LINES;
  const scope = r.project ? `${r.project}${r.order ? `/${r.order}` : ""}` : "all projects";
  const top = [`${st.bold(scope)}: ${countsLine(r.counts, st) || "no tasks"}`, ...(opts.preamble ?? [])];
  for (const h of r.holds) {
    const until = st.relative ? `for ${duration(Date.parse(h.until) - st.now)} more` : `until ${h.until}`;
    top.push(st.yellow(`${h.project}: agent tasks held by a usage limit ${until}${h.reason ? ` (${oneLine(h.reason, 100)})` : ""}`));
  }

  const groups = new Map<string, { project: string; order: string; tasks: TaskStatusJson[] }>();
  for (const t of r.tasks) {
    const key = `${t.project}\0${t.order}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { project: t.project, order: t.order, tasks: [] }));
    g.tasks.push(t);
  }
  const blocks = [...groups.values()].map((g) => orderBlock(st, r, g.project, g.order, g.tasks));
  const tail: string[] = [];
  if (r.locks.length) tail.push(st.dim(`${r.locks.length} lock(s) held (aipm locks)`));
  const { shown, dropped } = fitToLines(blocks, top.length + tail.length + 1, maxLines);

  const out = [...top];
  for (const b of shown) {
    out.push("", b.head);
    for (const s of b.sections) out.push(s.title(s.shown), ...s.items.slice(0, s.shown));
  }
  if (dropped > 0) out.push("", st.dim(`+${dropped} more order(s): aipm status --all`));
  if (tail.length) out.push("", ...tail);
  const lines = opts.cols ? out.map((l) => fitWidth(l, opts.cols!)) : out;
  return `${lines.join("\n")}\n`;
}
