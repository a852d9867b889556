/** Reading the end of a log file without loading all of it. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

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

/** The last non-empty line of a file (at most 200 characters), or null. */
export function readLastLine(path: string): string | null {
  const lines = readTail(path, 2048).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  const last = lines[lines.length - 1];
  return last === undefined ? null : last.length > 200 ? `${last.slice(0, 197)}...` : last;
}
