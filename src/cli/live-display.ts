/**
 * Progress while an order runs, on stderr. On a terminal: a bar per running
 * task (progress from AIPM_PROGRESS lines, elapsed time, last output line)
 * and an overall bar, redrawn in place at most five times a second. Not on a
 * terminal: one plain line per task start and end.
 */
import type { Supervisor, TaskEvent } from "../runtime/supervisor.js";
import type { CliIO } from "./io.js";

const REDRAW_MS = 200;

function bar(done: number, total: number, width: number): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

function secs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export class LiveDisplay {
  private lastDraw = 0;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly io: CliIO,
    private readonly order: string,
    private readonly tty: boolean,
  ) {}

  /** Redraws the terminal display (throttled); a no-op off a terminal. */
  update(s: Supervisor): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.update(s);
        }, REDRAW_MS);
      }
      return;
    }
    this.lastDraw = now;
    this.draw(s);
  }

  /** One line per start and end, off a terminal. */
  task(e: TaskEvent): void {
    if (this.tty || e.order !== this.order) return;
    if (e.status === "IN_PROGRESS") this.io.stderr(`started  ${e.task} (attempt ${e.attempt}, pid ${e.pid})\n`);
    else if (e.status === "REVIEW") this.io.stderr(`review   ${e.task} (attempt ${e.attempt} succeeded; reviewing)\n`);
    else if (e.status === "QUEUED") this.io.stderr(`retry    ${e.task} (attempt ${e.attempt} failed or was rejected)\n`);
    else this.io.stderr(`finished ${e.task}: ${e.status}\n`);
  }

  private draw(s: Supervisor): void {
    const cols = Math.max(60, Math.min(process.stderr.columns || 100, 160));
    const out: string[] = [];
    const now = Date.now();
    const w = Math.max(6, ...[...s.watched.values()].map((x) => x.task.length));
    for (const a of s.watched.values()) {
      if (a.order !== this.order) continue;
      const p = a.log.progress;
      const progress = p ? `${bar(p.done, p.total, 20)} ${p.done}/${p.total}` : `${bar(0, 0, 20)}    `;
      const line = `${a.task.padEnd(w)} ${progress} ${secs(now - a.startedAt).padStart(6)}  ${a.phase === "review" ? "[review] " : ""}${a.log.lastLine ?? ""}`;
      out.push(line.length > cols ? line.slice(0, cols - 1) : line);
    }
    const c = this.counts(s);
    out.push(
      `${this.order}: ${bar(c.finished, c.total, 30)} ${c.finished}/${c.total} finished, ${c.running} running, ${c.failed} failed`,
    );
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : "";
    this.io.stderr(`${up}\x1b[J${out.join("\n")}\n`);
    this.drawnLines = out.length;
  }

  private counts(s: Supervisor) {
    let total = 0;
    let finished = 0;
    let running = 0;
    let failed = 0;
    for (const t of s.view.tasks.values()) {
      if (t.orderId !== this.order) continue;
      total++;
      if (t.status === "DONE" || t.status === "FAILED" || t.status === "CANCELLED" || t.status === "SKIPPED") finished++;
      if (t.status === "IN_PROGRESS" || t.status === "REVIEW") running++;
      if (t.status === "FAILED") failed++;
    }
    return { total, finished, running, failed };
  }

  finish(s: Supervisor | null): void {
    if (this.timer) clearTimeout(this.timer);
    if (s && this.tty) this.draw(s);
  }
}
