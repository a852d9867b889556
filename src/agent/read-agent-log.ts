/**
 * The agent's summary of one attempt, read back from its log once the
 * attempt is over (by whichever aipm process records the end: the
 * supervisor, or recovery after every aipm process died). The log holds the
 * stream-json lines plus the wrapper's trailer; a very long log is read from
 * its last 8 MiB, where the result event is.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { AgentStream, type AgentSummary } from "./stream-json.js";

const MAX_BYTES = 8 << 20;

export function readAgentLog(path: string): AgentSummary {
  const stream = new AgentStream();
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return stream.summary;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString("utf8").split("\n");
    if (start > 0) lines.shift(); // a cut line
    for (const line of lines) {
      stream.push(line);
    }
  } finally {
    closeSync(fd);
  }
  return stream.summary;
}
