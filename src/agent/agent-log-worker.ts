/**
 * The worker-thread side of reading an agent's log back (see
 * src/runtime/off-thread.ts): a piscina task, `path` in, the summary out.
 */
import { readAgentLog } from "./read-agent-log.js";
import type { AgentSummary } from "./stream-json.js";

export default function readAgentLogTask(path: string): AgentSummary {
  return readAgentLog(path);
}
