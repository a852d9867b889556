/**
 * Reading a task's logs (`aipm logs`, a foreground follower) and deleting old
 * ones (`aipm cleanup`). Logs are read in chunks, never whole: a log can be
 * as large as its cap (AIPM_LOG_MAX_MB) and more between two compactions.
 */
import { removeTaskState } from "./task-state.js";
import { closeSync, fstatSync, openSync, readdirSync, readSync, rmdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Store } from "../store/open.js";
import { deleteRuns, finishedRunsBefore, latestRun } from "../store/runs.js";
import { endedTasksBefore } from "../store/tasks-read.js";
import { exitFileFor } from "../../worker/task-wrapper.js";
import { findTask, type TaskRef } from "./find-task.js";

export interface LatestLog {
  ref: TaskRef;
  attempt: number | null;
  path: string | null;
}

export function latestLog(store: Store, task: string, project?: string): LatestLog {
  const ref = findTask(store, task, project);
  const row = latestRun(store, ref.project, ref.task);
  return { ref, attempt: row?.attempt ?? null, path: row?.log_path ?? null };
}

const CHUNK = 64 * 1024;

/** What `aipm logs` shows of a log at most; from a bigger one, its end. */
export const LOG_SHOW_MAX = 8 * 1024 * 1024;

export interface LogView {
  /** The log's size now. */
  size: number;
  /** Bytes at its start that are not shown (0: all of it is). */
  skipped: number;
}

/**
 * Reads `path` from `from` (or only its last `max` bytes, starting at a line)
 * and hands the text to `out` chunk by chunk. Null when there is no log.
 */
export function streamLog(path: string | null, out: (text: string) => void, max = LOG_SHOW_MAX, from = 0): LogView | null {
  if (!path) return null;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let pos = Math.max(from, size - max);
    const buf = Buffer.allocUnsafe(CHUNK);
    if (pos > from) {
      // Start at a line: skip the rest of the one cut.
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0) pos += nl + 1;
    }
    const skipped = pos;
    const decoder = new StringDecoder("utf8");
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      const text = decoder.write(buf.subarray(0, n));
      if (text) out(text);
    }
    const rest = decoder.end();
    if (rest) out(rest);
    return { size, skipped };
  } finally {
    closeSync(fd);
  }
}

/** The whole text `streamLog` would show (for one JSON document): the end of a big log. */
export function readLog(path: string | null, max = LOG_SHOW_MAX): { text: string; view: LogView | null } {
  const parts: string[] = [];
  const view = streamLog(path, (t) => parts.push(t), max);
  return { text: parts.join(""), view };
}

/**
 * Follows a log as it grows: each `read()` returns what was appended since
 * the last one, at most `max` bytes (a follower left behind skips ahead,
 * with a line saying so). A log that shrank (compacted at its cap) is
 * followed from its new end.
 */
export class LogFollower {
  private offset: number;
  private decoder = new StringDecoder("utf8");

  constructor(
    private path: string | null,
    from = 0,
    private readonly max = 4 * 1024 * 1024,
  ) {
    this.offset = from;
  }

  /** Follows another file (the next attempt's log) from its start. */
  switchTo(path: string | null): void {
    this.path = path;
    this.offset = 0;
    this.decoder = new StringDecoder("utf8");
  }

  read(): string {
    let fd: number;
    try {
      if (!this.path) return "";
      fd = openSync(this.path, "r");
    } catch {
      return "";
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) this.offset = size;
      if (size === this.offset) return "";
      let note = "";
      if (size - this.offset > this.max) {
        note = `[aipm] ... ${size - this.max - this.offset} bytes not shown ...\n`;
        this.offset = size - this.max;
        this.decoder = new StringDecoder("utf8");
      }
      const buf = Buffer.allocUnsafe(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      return note + this.decoder.write(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
}

/** The size of a file, 0 when it is missing. */
export function fileSize(path: string | null): number {
  if (!path) return 0;
  try {
    const fd = openSync(path, "r");
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

export interface CleanupReport {
  days: number;
  runs_deleted: number;
  files_deleted: number;
}

/** Deletes run records and log files of finished tasks whose attempt ended more than `days` ago. */
export function cleanup(store: Store, days: number): CleanupReport {
  const cutoff = store.now() - days * 86_400_000;
  const rows = finishedRunsBefore(store, cutoff);
  let files = 0;
  const dirs = new Set<string>();
  for (const r of rows) {
    for (const p of [r.log_path, r.log_path.replace(/\.log$/, ".prompt"), r.log_path.replace(/\.log$/, ".settings.json"), exitFileFor(r.log_path)]) {
      try {
        unlinkSync(p);
        files++;
      } catch {
        /* already gone */
      }
    }
    dirs.add(dirname(r.log_path));
  }
  for (const d of dirs) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      /* not empty or gone */
    }
  }
  // Checkpoints of tasks that ended (DONE ones are removed at once) and have not run since the cutoff.
  const ended = endedTasksBefore(store, cutoff);
  for (const t of ended) removeTaskState(store.dir, t.project_id, t.id);
  deleteRuns(store, rows.map((r) => r.id));
  return { days, runs_deleted: rows.length, files_deleted: files };
}
