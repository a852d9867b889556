/**
 * Delivering notifications from the event log, off the tasks' path.
 *
 * `pump()` claims, in one IMMEDIATE transaction per notifier, what is new in
 * the event log since the notifier's cursor: a delivery row per notification,
 * unique by (notifier, dedupe key) — so two processes pumping at once, or one
 * after a restart, never both send the same failure — plus the `sending` rows
 * whose owner died (sent again: at least once across crashes). The sends then
 * run in the background; each one ends as `sent` or `failed`, and a failed
 * one leaves a `notify_failed` event. Nothing here ever changes a task.
 *
 * Any aipm process with notifiers configured pumps: supervisors every
 * second, and every command once before it exits (`drain` waits a bounded
 * time for the sends it started). A notifier seen for the first time starts
 * with the events of the last ten minutes, not the whole history.
 */
import { storeIsOpen, type Store } from "../store/open.js";
import { claimDeliveries, countDeliveryTry, endDelivery } from "../store/notifications.js";
import { isAlive, procStartTime } from "../runtime/proc.js";
import { thisHost } from "../config/host.js";
import { numberSetting } from "../config/settings.js";
import { hostHeartbeatAt } from "../store/hosts.js";
import { notifySettings, type NotifierConfig, type NotifySettings } from "./notify-config.js";
import { NOTIFIED_KINDS, toNotification, type Notification } from "./notification.js";
import { deliver } from "./send.js";

const FIRST_LOOK_BACK_MS = 10 * 60_000;
const BATCH = 200;

interface Claimed {
  id: number;
  notifier: NotifierConfig;
  notification: Notification;
  /** Tries already made by processes that gave up (exited mid-send). */
  attempts: number;
}

export class NotifyDispatcher {
  private readonly inflight = new Set<Promise<void>>();
  private readonly ownStart = procStartTime(process.pid);
  /** This host and its lease: a delivery owned by another host's process is judged by that host's heartbeat. */
  private readonly host: string;
  private readonly leaseS: number;
  private stop = new AbortController();

  constructor(
    private readonly store: Store,
    readonly settings: NotifySettings,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.host = thisHost(env).name;
    this.leaseS = numberSetting(env, "AIPM_HOST_LEASE_S");
  }

  /** A dispatcher for the notifiers in `env`, or null when none is configured. */
  static fromEnv(store: Store, env: NodeJS.ProcessEnv): NotifyDispatcher | null {
    const settings = notifySettings(env);
    return settings.notifiers.length > 0 ? new NotifyDispatcher(store, settings, env) : null;
  }

  /**
   * Claims what is new and starts sending it; returns how many sends started.
   * Never throws: notifications must not break whoever pumps (a busy database
   * just means "next time").
   */
  pump(): number {
    if (!storeIsOpen(this.store)) return 0;
    let claimed: Claimed[] = [];
    try {
      for (const n of this.settings.notifiers) claimed = claimed.concat(this.claim(n));
    } catch {
      // SQLITE_BUSY past the busy timeout, or the store closing: the next pump claims it.
    }
    for (const c of claimed) this.send(c);
    return claimed.length;
  }

  private claim(notifier: NotifierConfig): Claimed[] {
    return claimDeliveries(this.store, notifier.name, {
      kinds: NOTIFIED_KINDS,
      batch: BATCH,
      firstLookBackMs: FIRST_LOOK_BACK_MS,
      owner: { pid: process.pid, start: this.ownStart, host: this.host },
      ownerAlive: (pid, start, host) => {
        // A pid means something only on its own host; another host's process is alive while its host beats.
        if (host === null || host === this.host) return isAlive(pid, start);
        const beat = hostHeartbeatAt(this.store, host);
        return beat !== null && this.store.now() - beat <= this.leaseS * 1000;
      },
      notificationOf: toNotification,
    }).map((c) => ({ ...c, notifier }));
  }

  private send(c: Claimed): void {
    // Every try is counted in the database before it is made: a delivery abandoned by processes
    // that exited mid-send is tried again by the next, but never more than `tries` times in all.
    const onTry = () => {
      try {
        if (storeIsOpen(this.store)) countDeliveryTry(this.store, c.id);
      } catch {
        // busy: the count is a bound, not bookkeeping a task depends on
      }
    };
    const p = deliver(c.notifier, c.notification, this.settings, this.stop.signal, { from: c.attempts, onTry }).then((r) => {
      // Abandoned at exit: left `sending`, so that the next process that looks sends it.
      if (r.error === "aborted" || !storeIsOpen(this.store)) return;
      const e = c.notification.event;
      const failed = r.ok
        ? null
        : {
            kind: "notify_failed",
            projectId: (e.project ?? null) as string | null,
            orderId: (e.order ?? null) as string | null,
            taskId: (e.task ?? null) as string | null,
            attempt: (e.attempt ?? null) as number | null,
            data: { notifier: c.notifier.name, event_id: c.notification.eventId, event: e.kind, error: r.error, attempts: r.attempts },
          };
      endDelivery(this.store, c.id, { ok: r.ok, attempts: r.attempts, error: r.error ?? null }, failed);
    });
    const tracked = p.catch(() => {}).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Sends still running. */
  get pending(): number {
    return this.inflight.size;
  }

  /**
   * Waits for the sends started so far, at most `ms`; then abandons the rest
   * (left `sending` for the next process), so that the process can exit.
   */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.inflight.size > 0 && Date.now() < until) {
      await Promise.race([Promise.all([...this.inflight]), new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())).unref())]);
    }
    if (this.inflight.size > 0) {
      this.stop.abort();
      this.stop = new AbortController();
    }
  }
}

const perStore = new WeakMap<Store, NotifyDispatcher | null>();

/**
 * The one dispatcher of a store in this process (null without notifiers): a
 * command and the supervisor it runs share it, so that the command's final
 * `drain` waits for every send this process started.
 */
export function dispatcherFor(store: Store, env: NodeJS.ProcessEnv): NotifyDispatcher | null {
  if (!perStore.has(store)) perStore.set(store, NotifyDispatcher.fromEnv(store, env));
  return perStore.get(store) ?? null;
}

/** Sends what is new and waits for this process's sends, at most `ms`: before a store is closed. */
export async function flushNotifications(store: Store, env: NodeJS.ProcessEnv, ms = 5000): Promise<void> {
  const d = dispatcherFor(store, env);
  if (!d) return;
  d.pump();
  await d.drain(ms);
}
