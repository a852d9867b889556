/**
 * The notifiers configured in the environment:
 *
 * | notifier | set by                                         |
 * |----------|------------------------------------------------|
 * | pushover | AIPM_PUSHOVER_TOKEN + AIPM_PUSHOVER_USER (AIPM_PUSHOVER_URL to point elsewhere) |
 * | webhook  | AIPM_WEBHOOK_URL: a JSON POST of the event      |
 * | command  | AIPM_NOTIFY_CMD: a JSON argv template, the event JSON on stdin |
 *
 * A bad value (one Pushover variable without the other, a URL that does not
 * parse, a template that is not a JSON argv) is a usage error naming it.
 * AIPM_NOTIFY_BACKOFF_S (default 1) is the first retry delay of a delivery.
 */
import { usageError } from "../errors.js";
import { argvSetting, numberSetting, urlSetting } from "../config/settings.js";

export const PUSHOVER_URL = "https://api.pushover.net/1/messages.json";

export type NotifierConfig =
  | { name: "pushover"; url: string; token: string; user: string }
  | { name: "webhook"; url: string }
  | { name: "command"; argv: string[] };

export interface NotifySettings {
  notifiers: NotifierConfig[];
  /** First retry delay (s); doubles with each retry. */
  backoffS: number;
  /** Tries per delivery (the first one included). */
  tries: number;
}

export function notifySettings(env: NodeJS.ProcessEnv): NotifySettings {
  const notifiers: NotifierConfig[] = [];
  const token = env.AIPM_PUSHOVER_TOKEN?.trim();
  const user = env.AIPM_PUSHOVER_USER?.trim();
  if (token || user) {
    if (!token || !user) throw usageError("Pushover needs both AIPM_PUSHOVER_TOKEN and AIPM_PUSHOVER_USER");
    notifiers.push({ name: "pushover", url: urlSetting(env, "AIPM_PUSHOVER_URL") ?? PUSHOVER_URL, token, user });
  }
  const hook = urlSetting(env, "AIPM_WEBHOOK_URL");
  if (hook) notifiers.push({ name: "webhook", url: hook });
  const cmd = argvSetting(env, "AIPM_NOTIFY_CMD");
  if (cmd) notifiers.push({ name: "command", argv: cmd });
  const backoffS = numberSetting(env, "AIPM_NOTIFY_BACKOFF_S");
  return { notifiers, backoffS, tries: 4 };
}
