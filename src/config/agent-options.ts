/** Settings of agent workers read where a launch is prepared (validated with the others in ./settings.ts). */
import { numberSetting } from "./settings.js";

/** `API_TIMEOUT_MS` given to agent workers (unless set): one silent API request fails after this, below the stall limit. */
export function agentApiTimeoutS(env: NodeJS.ProcessEnv): number {
  return numberSetting(env, "AIPM_AGENT_API_TIMEOUT_S");
}
