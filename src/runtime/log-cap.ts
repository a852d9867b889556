/**
 * The size cap of an attempt's log (`AIPM_LOG_MAX_MB`, default 64): a log
 * over it keeps its beginning and its end, with one line between saying how
 * much was dropped:
 *
 *   [aipm] 912345678 bytes of output dropped here (AIPM_LOG_MAX_MB=64)
 *
 * No process stands between a task and its log (the wrapper appends to it
 * directly, O_APPEND): whoever follows the log compacts it in place when it
 * finds it over the cap — the supervisor at each look, recovery at the end.
 * Compacting copies the last quarter of the cap down behind the kept head
 * (the first half, to a line end) and the marker, then truncates the file
 * there; the task's next writes land after it. Bytes the task appends while
 * the copy runs are copied too, in a few rounds; what it appends between the
 * last look and the truncation (microseconds) is lost. Between two looks a
 * log may pass the cap by what the task writes in one poll interval.
 *
 * Memory: one 1 MiB buffer, whatever the size of the log.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { numberSetting } from "../config/settings.js";

export const LOG_MAX_MB_DEFAULT = 64;
const MB = 1024 * 1024;
/** A cap below this would leave no room for a head, a marker and a tail. */
const MIN_BYTES = 16 * 1024;
const CHUNK = MB;
const LINE_SEARCH = 64 * 1024;
const CATCH_UP_ROUNDS = 4;
const MARKER = /^\[aipm\] (\d+) bytes of output dropped here[^\n]*\n/;

/** `AIPM_LOG_MAX_MB` in bytes (a positive number of MB; fractions allowed). */
export function resolveLogMaxBytes(env: NodeJS.ProcessEnv): number {
  return Math.max(MIN_BYTES, Math.floor(numberSetting(env, "AIPM_LOG_MAX_MB") * MB));
}

let chunk: Buffer | null = null;
function buffer(): Buffer {
  chunk ??= Buffer.allocUnsafe(CHUNK);
  return chunk;
}

/** The end of the line that holds `at` (its newline + 1), searched within LINE_SEARCH bytes; else `at`. */
function lineEndAfter(fd: number, at: number, limit: number): number {
  const buf = buffer();
  const n = readSync(fd, buf, 0, Math.min(LINE_SEARCH, Math.max(0, limit - at)), at);
  const nl = buf.subarray(0, n).indexOf(10);
  return nl >= 0 ? at + nl + 1 : at;
}

/** The start of the line that holds `at - 1` (the byte after the last newline before `at`), within LINE_SEARCH bytes; else `at`. */
function lineStartBefore(fd: number, at: number): number {
  const from = Math.max(0, at - LINE_SEARCH);
  const buf = buffer();
  const n = readSync(fd, buf, 0, at - from, from);
  const nl = buf.subarray(0, n).lastIndexOf(10);
  return nl >= 0 ? from + nl + 1 : at;
}

function copyDown(fd: number, from: number, to: number, dest: number): number {
  const buf = buffer();
  let src = from;
  while (src < to) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, to - src), src);
    if (n <= 0) break;
    writeSync(fd, buf, 0, n, dest);
    src += n;
    dest += n;
  }
  return dest;
}

export interface Compaction {
  /** Bytes dropped in all (this compaction and the earlier ones). */
  dropped: number;
  /** The log's size right after. */
  size: number;
}

/** Compacts the log at `path` when it is over `maxBytes`; null when it is not (or is gone). */
export function capLog(path: string, maxBytes: number): Compaction | null {
  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch {
    return null;
  }
  try {
    let size = fstatSync(fd).size;
    if (size <= maxBytes) return null;
    const max = Math.max(MIN_BYTES, maxBytes);
    // The head: the first half, cut after a line end.
    const headLimit = Math.floor(max / 2);
    const head = lineStartBefore(fd, headLimit);
    // An earlier compaction's marker right after the head: its count goes on.
    const buf = buffer();
    const n = readSync(fd, buf, 0, 200, head);
    const prev = MARKER.exec(buf.subarray(0, n).toString("latin1"));
    const prevDropped = prev ? Number(prev[1]) : 0;
    const keptFrom = head + (prev ? prev[0].length : 0);
    // The tail: the last quarter, from a line start.
    const src = lineEndAfter(fd, size - Math.floor(max / 4), size);
    const dropped = prevDropped + (src - keptFrom);
    const marker = Buffer.from(`[aipm] ${dropped} bytes of output dropped here (AIPM_LOG_MAX_MB=${+(maxBytes / MB).toFixed(3)})\n`);
    let dest = copyDown(fd, src, size, head + marker.length);
    // The task may have appended meanwhile: copy that too, a few rounds.
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      const now = fstatSync(fd).size;
      if (now <= size) break;
      dest = copyDown(fd, size, now, dest);
      size = now;
    }
    writeSync(fd, marker, 0, marker.length, head);
    ftruncateSync(fd, dest);
    return { dropped, size: dest };
  } finally {
    closeSync(fd);
  }
}
