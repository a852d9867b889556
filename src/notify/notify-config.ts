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
import { parseTemplate } from "../runtime/task-command.js";

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

function checkUrl(raw: string, name: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return raw;
  } catch {
    throw usageError(`${name}: expected an http(s) URL, got '${raw}'`);
  }
}

export function notifySettings(env: NodeJS.ProcessEnv): NotifySettings {
  const notifiers: NotifierConfig[] = [];
  const token = env.AIPM_PUSHOVER_TOKEN?.trim();
  const user = env.AIPM_PUSHOVER_USER?.trim();
  if (token || user) {
    if (!token || !user) throw usageError("Pushover needs both AIPM_PUSHOVER_TOKEN and AIPM_PUSHOVER_USER");
    notifiers.push({ name: "pushover", url: checkUrl(env.AIPM_PUSHOVER_URL?.trim() || PUSHOVER_URL, "AIPM_PUSHOVER_URL"), token, user });
  }
  const hook = env.AIPM_WEBHOOK_URL?.trim();
  if (hook) notifiers.push({ name: "webhook", url: checkUrl(hook, "AIPM_WEBHOOK_URL") });
  const cmd = parseTemplate(env.AIPM_NOTIFY_CMD, "AIPM_NOTIFY_CMD");
  if (cmd) notifiers.push({ name: "command", argv: cmd });
  const rawBackoff = env.AIPM_NOTIFY_BACKOFF_S;
  const backoffS = rawBackoff === undefined || rawBackoff.trim() === "" ? 1 : Number(rawBackoff);
  if (!Number.isFinite(backoffS) || backoffS < 0) throw usageError(`AIPM_NOTIFY_BACKOFF_S: expected a number of seconds, got '${rawBackoff}'`);
  return { notifiers, backoffS, tries: 4 };
}
