/**
 * Settings of agent workers read where a launch is prepared.
 *
 * | env                        | default | meaning |
 * |----------------------------|---------|---------|
 * | AIPM_AGENT_API_TIMEOUT_S   | 300     | `API_TIMEOUT_MS` given to agent workers (unless set): one silent API request fails after this, below the stall limit |
 */
import { usageError } from "../errors.js";
import { DEFAULT_API_TIMEOUT_S } from "../agent/worker-env.js";

export function agentApiTimeoutS(env: NodeJS.ProcessEnv): number {
  const raw = env.AIPM_AGENT_API_TIMEOUT_S;
  if (raw === undefined || raw.trim() === "") return DEFAULT_API_TIMEOUT_S;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1 || n > 86_400) {
    throw usageError(`AIPM_AGENT_API_TIMEOUT_S: expected a number of seconds from 1 to 86400, got '${raw}'`);
  }
  return n;
}
