/**
 * This host: its name (`AIPM_HOST`, else the hostname) and its labels
 * (`AIPM_HOST_LABELS`). The claim records the name on the attempt it opens,
 * workers get it as `AIPM_HOST`, and a task with `runs_on` launches only here
 * when every label it asks for is among these (docs/hosts.md).
 */
import { hostname } from "node:os";
import { HOST_NAME, gitSyncSetting, hostLabelsSetting, hostSetting } from "./settings.js";

export interface ThisHost {
  name: string;
  labels: readonly string[];
  /** AIPM_GIT_SYNC as set (docs/hosts.md, "Edits across hosts"); absent: auto. */
  gitSync?: "auto" | "on" | "off";
}

/** The hostname, reduced to a valid host name (a name with other characters gets `-` for them). */
let cachedDefault: string | undefined;
function defaultHostName(): string {
  return (cachedDefault ??= cleanHostname(hostname().trim()));
}

function cleanHostname(h: string): string {
  if (HOST_NAME.test(h)) return h;
  const cleaned = h.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
  return cleaned === "" ? "localhost" : cleaned;
}

export function thisHost(env: NodeJS.ProcessEnv): ThisHost {
  return { name: hostSetting(env) ?? defaultHostName(), labels: hostLabelsSetting(env), gitSync: gitSyncSetting(env) };
}
