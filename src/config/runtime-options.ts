/**
 * Supervision settings, read once from the environment (never at import
 * time): tests and the benchmark pass their own. Units and ranges: ./settings.ts.
 *
 * | setting       | env                   | default |
 * |---------------|-----------------------|---------|
 * | backoffS      | AIPM_RETRY_BACKOFF_S  | 5       | first retry delay; doubles each retry
 * | stallWarnS    | AIPM_STALL_WARN_S     | 300     | no output this long: a warning event (a list `300,600`: one per stage)
 * | stallKillS    | AIPM_STALL_KILL_S     | 900     | no output this long: killed, attempt fails as `stalled`
 * | killGraceS    | AIPM_KILL_GRACE_S     | 5       | SIGTERM, then SIGKILL after this
 * | pollMs        | AIPM_POLL_MS          | 100     | how often logs, timeouts and adopted workers are checked
 * | rateLimitWaitS| AIPM_RATE_LIMIT_WAIT_S| 300     | wait after an agent's usage/rate limit that names no reset time
 * | resultGraceS  | AIPM_RESULT_GRACE_S   | 10      | an agent still running this long after its final `result` event is killed (the result stands)
 * | transientMaxS | AIPM_TRANSIENT_MAX_S  | 3600    | a task meeting only transient API errors this long fails as `api_error`
 * | transientBackoffMaxS | AIPM_TRANSIENT_BACKOFF_MAX_S | 300 | cap of the doubling wait after a transient API error
 */
import { numberSetting, stagesSetting } from "./settings.js";

export interface RuntimeOptions {
  backoffS: number;
  /** Warning stages, increasing (seconds without output). */
  stallWarnS: number[];
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
  stallWarnS: [300],
  stallKillS: 900,
  killGraceS: 5,
  pollMs: 100,
  rateLimitWaitS: 300,
  resultGraceS: 10,
  transientMaxS: 3600,
  transientBackoffMaxS: 300,
};

export function resolveRuntimeOptions(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  return {
    backoffS: numberSetting(env, "AIPM_RETRY_BACKOFF_S"),
    stallWarnS: stagesSetting(env, "AIPM_STALL_WARN_S"),
    stallKillS: numberSetting(env, "AIPM_STALL_KILL_S"),
    killGraceS: numberSetting(env, "AIPM_KILL_GRACE_S"),
    pollMs: numberSetting(env, "AIPM_POLL_MS"),
    rateLimitWaitS: numberSetting(env, "AIPM_RATE_LIMIT_WAIT_S"),
    resultGraceS: numberSetting(env, "AIPM_RESULT_GRACE_S"),
    transientMaxS: numberSetting(env, "AIPM_TRANSIENT_MAX_S"),
    transientBackoffMaxS: numberSetting(env, "AIPM_TRANSIENT_BACKOFF_MAX_S"),
  };
}
