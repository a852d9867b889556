/** Reading the end of a log file without loading all of it. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { AgentStream } from "../agent/stream-json.js";

/** A progress report (`AIPM_PROGRESS 3/10 label`): shown as progress, never as output. */
const PROGRESS_LINE = /^\s*AIPM_PROGRESS\s+\d+\s*\/\s*\d+/;

/** The last `bytes` of a file as text (from a line start when possible); "" when missing. */
export function readTail(path: string, bytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString("utf8");
    if (start === 0) return text;
    const nl = text.indexOf("\n");
    return nl >= 0 && nl < text.length - 1 ? text.slice(nl + 1) : text;
  } finally {
    closeSync(fd);
  }
}

/**
 * The last non-empty line of a file that is not an `AIPM_PROGRESS` line (at
 * most 200 characters), or null. For an agent's stream-json log: what the
 * agent did last (`Edit src/a.ts`).
 */
export function readLastLine(path: string): string | null {
  const tail = readTail(path, 16384);
  const lines = tail
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "" && !PROGRESS_LINE.test(l));
  if (lines.some((l) => l.startsWith("{") && l.includes('"type":'))) {
    const stream = new AgentStream();
    for (const l of lines) stream.push(l);
    if (stream.lastActivity) return stream.lastActivity;
  }
  const last = lines[lines.length - 1];
  return last === undefined ? null : last.length > 200 ? `${last.slice(0, 197)}...` : last;
}
