/**
 * The last lines of a task's latest log, bounded (`aipm logs --tail N` and
 * the MCP `logs` tool): reads at most the file's last 256 KB, renders an
 * agent's stream-json as readable lines unless `raw`, and cuts long lines.
 */
import type { Store } from "../store/open.js";
import { readTail } from "../util/tail.js";
import { ReadableAgentOutput } from "../agent/readable-output.js";
import { latestLog } from "./task-logs.js";

export const MAX_TAIL_LINES = 200;
const MAX_LINE = 300;

export interface LogTail {
  project: string;
  task: string;
  status: string;
  attempt: number | null;
  /** The last lines, joined with newlines ("" when the task has not run). */
  tail: string;
}

export function logTail(store: Store, r: { task: string; project?: string | undefined; lines: number; raw?: boolean }): LogTail {
  const log = latestLog(store, r.task, r.project);
  let text = log.path ? readTail(log.path, 256 * 1024) : "";
  if (!r.raw && text) {
    const readable = new ReadableAgentOutput();
    text = readable.push(text) + readable.flush();
  }
  const lines = text.replace(/\s+$/, "").split("\n");
  const tail = lines
    .slice(-Math.min(r.lines, MAX_TAIL_LINES))
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 1)}…` : l))
    .join("\n")
    .replace(/^\n+/, "");
  return { project: log.ref.project, task: log.ref.task, status: log.ref.status, attempt: log.attempt, tail };
}
