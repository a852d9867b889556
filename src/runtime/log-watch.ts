/**
 * Following an attempt's log while it runs: new bytes since the last look,
 * the `AIPM_PROGRESS <done>/<total>` lines in them, the last output line and
 * the time output last grew (the stall clock). Reads only what was appended.
 *
 * Lines of an agent's stream-json go through an AgentStream instead: the last
 * line shown is what the agent did last (`Edit src/a.ts`), and its progress
 * is its TodoWrite list (completed / all). Every line is a heartbeat.
 *
 * Memory stays flat whatever the task prints: at most MAX_READ bytes are read
 * per look, a line longer than MAX_PARTIAL is dropped, and a log over its
 * cap is compacted (see log-cap.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { capLog } from "./log-cap.js";
import { AgentStream, parseEvent } from "../agent/stream-json.js";
import { findGpuError, worse, type GpuFinding } from "../resources/gpu-errors.js";

export interface LogState {
  path: string;
  offset: number;
  /** Bytes after the last newline, carried to the next read. */
  partial: string;
  lastLine: string | null;
  progress: { done: number; total: number; label?: string | null } | null;
  progressChanged: boolean;
  /** Created at the first stream-json line. */
  agent: AgentStream | null;
  /** The first output line that shows a GPU failure (see src/resources/gpu-errors.ts). */
  gpuError: GpuFinding | null;
  /** The log's cap in bytes (AIPM_LOG_MAX_MB); Infinity: never compacted here. */
  maxBytes: number;
}

export function newLogState(path: string, maxBytes = Infinity): LogState {
  return { path, offset: 0, partial: "", lastLine: null, progress: null, progressChanged: false, agent: null, gpuError: null, maxBytes };
}

/** `AIPM_PROGRESS <done>/<total> [label]`. */
export const PROGRESS = /^AIPM_PROGRESS\s+(\d+)\s*\/\s*(\d+)(?:\s+(.*\S))?\s*$/;
const MAX_READ = 256 * 1024;
/**
 * One read buffer for every look (the loop is single-threaded): a buffer per
 * look, 80 a second with 8 streaming agents, left ~60 MB of freed native
 * memory in the supervisor's RSS.
 */
const scratch = Buffer.allocUnsafe(MAX_READ);
/** A line still unfinished past this many characters is dropped (it is still in the log). */
const MAX_PARTIAL = 256 * 1024;

/** Reads what was appended; returns true when the log grew. */
export function pollLog(state: LogState): boolean {
  let fd: number;
  try {
    fd = openSync(state.path, "r");
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= state.offset) {
      // Compacted by someone else: go on from its new end.
      if (size < state.offset) state.offset = size;
      return false;
    }
    // Only the last MAX_READ bytes matter for progress and the last line.
    const start = Math.max(state.offset, size - MAX_READ);
    const skipped = start > state.offset;
    const length = readSync(fd, scratch, 0, size - start, start);
    state.offset = start + length;
    if (size > state.maxBytes) {
      const c = capLog(state.path, state.maxBytes);
      if (c) state.offset = c.size;
    }
    // Bytes were skipped: the partial line before them does not continue here.
    const text = (skipped ? "" : state.partial) + scratch.toString("utf8", 0, length);
    const lines = text.split("\n");
    state.partial = lines.pop() ?? "";
    if (state.partial.length > MAX_PARTIAL) state.partial = "";
    for (const raw of lines) {
      const line = raw.replace(/\r$/, "");
      if (line.charCodeAt(0) === 123 /* { */ && (state.agent !== null || parseEvent(line) !== null)) {
        state.agent ??= new AgentStream();
        if (state.agent.push(line)) {
          state.progress = state.agent.progress;
          state.progressChanged = true;
        }
        if (state.agent.lastActivity) state.lastLine = state.agent.lastActivity;
        continue;
      }
      if (!state.gpuError?.hard) state.gpuError = worse(state.gpuError, findGpuError(line));
      const m = PROGRESS.exec(line.trim());
      if (m) {
        const p = { done: Number(m[1]), total: Number(m[2]), label: m[3] ? m[3].slice(0, 200) : null };
        if (!state.progress || state.progress.done !== p.done || state.progress.total !== p.total || state.progress.label !== p.label) {
          state.progress = p;
          state.progressChanged = true;
        }
      }
      else if (line.trim() !== "") state.lastLine = line.length > 200 ? `${line.slice(0, 197)}...` : line;
    }
    if (state.partial.trim() !== "" && !state.partial.startsWith("{")) state.lastLine = state.partial.slice(0, 200);
    return true;
  } finally {
    closeSync(fd);
  }
}
