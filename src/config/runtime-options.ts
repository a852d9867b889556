/**
 * Supervision settings, read once from the environment (never at import
 * time): tests and the benchmark pass their own.
 *
 * | setting       | env                   | default |
 * |---------------|-----------------------|---------|
 * | backoffS      | AIPM_RETRY_BACKOFF_S  | 5       | first retry delay; doubles each retry
 * | stallWarnS    | AIPM_STALL_WARN_S     | 300     | no output this long: a warning event
 * | stallKillS    | AIPM_STALL_KILL_S     | 900     | no output this long: killed, attempt fails as `stalled`
 * | killGraceS    | AIPM_KILL_GRACE_S     | 5       | SIGTERM, then SIGKILL after this
 * | pollMs        | AIPM_POLL_MS          | 100     | how often logs, timeouts and adopted workers are checked
 * | rateLimitWaitS| AIPM_RATE_LIMIT_WAIT_S| 300     | wait after an agent's usage/rate limit that names no reset time
 * | resultGraceS  | AIPM_RESULT_GRACE_S   | 10      | an agent still running this long after its final `result` event is killed (the result stands)
 * | transientMaxS | AIPM_TRANSIENT_MAX_S  | 3600    | a task meeting only transient API errors this long fails as `api_error`
 * | transientBackoffMaxS | AIPM_TRANSIENT_BACKOFF_MAX_S | 300 | cap of the doubling wait after a transient API error
 */
import { usageError } from "../errors.js";

export interface RuntimeOptions {
  backoffS: number;
  stallWarnS: number;
  stallKillS: number;
  killGraceS: number;
  pollMs: number;
  rateLimitWaitS: number;
  resultGraceS: number;
  transientMaxS: number;
  transientBackoffMaxS: number;
}

export const RUNTIME_DEFAULTS: RuntimeOptions = {
  backoffS: 5,
  stallWarnS: 300,
  stallKillS: 900,
  killGraceS: 5,
  pollMs: 100,
  rateLimitWaitS: 300,
  resultGraceS: 10,
  transientMaxS: 3600,
  transientBackoffMaxS: 300,
};

function envSeconds(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw usageError(`${name}: expected a number of seconds from ${min} up, got '${raw}'`);
  return n;
}

export function resolveRuntimeOptions(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  return {
    backoffS: envSeconds(env, "AIPM_RETRY_BACKOFF_S", RUNTIME_DEFAULTS.backoffS),
    stallWarnS: envSeconds(env, "AIPM_STALL_WARN_S", RUNTIME_DEFAULTS.stallWarnS, 0.01),
    stallKillS: envSeconds(env, "AIPM_STALL_KILL_S", RUNTIME_DEFAULTS.stallKillS, 0.01),
    killGraceS: envSeconds(env, "AIPM_KILL_GRACE_S", RUNTIME_DEFAULTS.killGraceS),
    pollMs: Math.max(10, envSeconds(env, "AIPM_POLL_MS", RUNTIME_DEFAULTS.pollMs, 10)),
    rateLimitWaitS: envSeconds(env, "AIPM_RATE_LIMIT_WAIT_S", RUNTIME_DEFAULTS.rateLimitWaitS),
    resultGraceS: envSeconds(env, "AIPM_RESULT_GRACE_S", RUNTIME_DEFAULTS.resultGraceS),
    transientMaxS: envSeconds(env, "AIPM_TRANSIENT_MAX_S", RUNTIME_DEFAULTS.transientMaxS),
    transientBackoffMaxS: envSeconds(env, "AIPM_TRANSIENT_BACKOFF_MAX_S", RUNTIME_DEFAULTS.transientBackoffMaxS, 0.01),
  };
}
