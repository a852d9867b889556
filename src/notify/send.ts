/**
 * Sending one notification through one notifier, with retries: a 4xx answer
 * is final (the request is wrong: retrying cannot help) except 408 and 429, a 5xx answer, a
 * network error, a timeout or a failing command hook is retried after
 * `backoffS`, doubling, up to `tries` tries. Nothing here throws: the result
 * says what happened.
 *
 * Pushover: a form POST of token, user, title (cut to 250 characters),
 * message (cut to 1024) and priority. Webhook: a JSON POST of the event.
 * Command: the argv template run (no shell) with the event JSON on stdin;
 * exit 0 is delivered.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { NotifierConfig } from "./notify-config.js";
import type { Notification } from "./notification.js";
import { expandTemplate } from "../runtime/task-command.js";

export interface SendResult {
  ok: boolean;
  /** A failure that retrying cannot fix. */
  final: boolean;
  status?: number;
  error?: string;
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

const TIMEOUT_MS = 10_000;
export const PUSHOVER_TITLE_MAX = 250;
export const PUSHOVER_MESSAGE_MAX = 1024;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function post(url: string, body: string, contentType: string, stop?: AbortSignal): Promise<SendResult> {
  try {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, "user-agent": "aipm" },
      body,
      signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
    });
    const text = await res.text().catch(() => "");
    if (res.ok) return { ok: true, final: true, status: res.status };
    const detail = text.replace(/\s+/g, " ").trim().slice(0, 200);
    // A 4xx answer is final — except 408 (timeout) and 429 (too many requests), which say "later".
    const final = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    return { ok: false, final, status: res.status, error: `HTTP ${res.status}${detail ? `: ${detail}` : ""}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { ok: false, final: false, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

function runHook(argv: readonly string[], n: Notification, stop?: AbortSignal): Promise<SendResult> {
  const { argv: args } = expandTemplate(argv, { prompt: n.message, model: null, task: String(n.event.task ?? ""), order: String(n.event.order ?? ""), project: String(n.event.project ?? "") });
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(args[0]!, args.slice(1), { stdio: ["pipe", "ignore", "pipe"], timeout: 30_000, ...(stop ? { signal: stop } : {}) });
    } catch (err) {
      resolve({ ok: false, final: true, error: (err as Error).message });
      return;
    }
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      if (stderr.length < 500) stderr += c.toString("utf8");
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, final: err.code === "ENOENT" || err.code === "EACCES", error: `${err.code ?? err.name}: ${args[0]}` }),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ ok: true, final: true });
      else resolve({ ok: false, final: false, error: `exit ${code ?? signal}${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ""}` });
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(`${JSON.stringify(n.event)}\n`);
  });
}

export function sendOnce(to: NotifierConfig, n: Notification, stop?: AbortSignal): Promise<SendResult> {
  switch (to.name) {
    case "pushover": {
      const form = new URLSearchParams({
        token: to.token,
        user: to.user,
        title: cut(n.title, PUSHOVER_TITLE_MAX),
        message: cut(n.message, PUSHOVER_MESSAGE_MAX),
        priority: String(n.priority),
      });
      return post(to.url, form.toString(), "application/x-www-form-urlencoded", stop);
    }
    case "webhook":
      return post(to.url, JSON.stringify(n.event), "application/json", stop);
    case "command":
      return runHook(to.argv, n, stop);
  }
}

function sleep(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    stop?.addEventListener("abort", () => {
      clearTimeout(t);
      r();
    }, { once: true });
  });
}

/**
 * Sends with retries. `stop` abandons it (the result then says `aborted`: not
 * delivered as far as we know). `from`: tries already made (by a process that
 * gave up); `onTry` is told before each try, so that the count survives us.
 */
export async function deliver(
  to: NotifierConfig,
  n: Notification,
  opts: { tries: number; backoffS: number },
  stop?: AbortSignal,
  more: { from?: number; onTry?: () => void } = {},
): Promise<DeliveryResult> {
  let last: SendResult = { ok: false, final: false, error: "not tried" };
  for (let i = (more.from ?? 0) + 1; i <= opts.tries; i++) {
    more.onTry?.();
    last = await sendOnce(to, n, stop);
    if (!last.ok && stop?.aborted) return { ok: false, attempts: i, error: "aborted" };
    if (last.ok || last.final || i === opts.tries) {
      return { ok: last.ok, attempts: i, ...(last.status !== undefined ? { status: last.status } : {}), ...(last.error ? { error: last.error } : {}) };
    }
    await sleep(opts.backoffS * 1000 * 2 ** (i - 1), stop);
    if (stop?.aborted) return { ok: false, attempts: i, error: "aborted" };
  }
  return { ok: false, attempts: Math.max(opts.tries, more.from ?? 0), error: last.error ?? `gave up after ${more.from ?? 0} tries` };
}
