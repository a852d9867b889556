/**
 * Tables `notify_cursors` and `deliveries`: how far each notifier has read
 * the event log, and one row per notification claimed for sending (unique by
 * notifier and dedupe key), with its state, tries and owner. What a
 * notification says and how it is sent is src/notify/'s business.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { appendEvent, eventsOfKindsAfter, lastEventId, lastEventIdBefore, type EventInput, type StoredEvent } from "./events.js";

export interface DeliveryClaim<N> {
  /** The delivery row. */
  id: number;
  notification: N;
  /** Tries already made by processes that gave up (exited mid-send). */
  attempts: number;
}

export interface ClaimOptions<N extends { dedupeKey: string }> {
  /** Event kinds that may notify. */
  kinds: readonly string[];
  /** At most this many new events per claim. */
  batch: number;
  /** A notifier seen for the first time starts with the events of this last stretch. */
  firstLookBackMs: number;
  /** This process (and its host), recorded as the owner of what it claims. */
  owner: { pid: number; start: string | null; host: string };
  /** Whether the owner of a `sending` delivery still runs (if not, it is claimed again); `host` null: recorded before hosts. */
  ownerAlive: (pid: number | null, start: string | null, host: string | null) => boolean;
  /** The notification an event makes, or null when it makes none. */
  notificationOf: (event: StoredEvent) => N | null;
}

/**
 * Claims, in one IMMEDIATE transaction, what is new in the event log since
 * the notifier's cursor (a delivery row per notification: a dedupe key
 * already claimed is not claimed again), moves the cursor on, and takes over
 * the `sending` deliveries whose owner is gone.
 */
export function claimDeliveries<N extends { dedupeKey: string }>(store: Store, notifier: string, o: ClaimOptions<N>): Array<DeliveryClaim<N>> {
  return store.conn
    .transaction((): Array<DeliveryClaim<N>> => {
      const now = store.now();
      let cursor = stmt(store, "SELECT last_event_id FROM notify_cursors WHERE notifier = ?").pluck().get(notifier) as number | undefined;
      if (cursor === undefined) {
        cursor = lastEventIdBefore(store, now - o.firstLookBackMs);
        stmt(store, "INSERT INTO notify_cursors (notifier, last_event_id) VALUES (?, ?)").run(notifier, cursor);
      }
      const rows = eventsOfKindsAfter(store, cursor, o.kinds, o.batch);
      const last = rows.length === o.batch ? rows[rows.length - 1]!.id : lastEventId(store);
      const out: Array<DeliveryClaim<N>> = [];
      for (const row of rows) {
        const notification = o.notificationOf(row);
        if (!notification) continue;
        const id = stmt(
          store,
          `INSERT INTO deliveries (notifier, event_id, dedupe_key, state, attempts, owner_pid, owner_start, owner_host, created_at)
             VALUES (?, ?, ?, 'sending', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
        )
          .pluck()
          .get(notifier, row.id, notification.dedupeKey, o.owner.pid, o.owner.start, o.owner.host, now) as number | undefined;
        if (id !== undefined) out.push({ id, notification, attempts: 0 });
      }
      if (last > cursor) stmt(store, "UPDATE notify_cursors SET last_event_id = ? WHERE notifier = ?").run(last, notifier);
      // Deliveries whose sender died mid-way: send them again.
      const stale = stmt(
        store,
        `SELECT e.*, d.id AS delivery_id, d.owner_pid, d.owner_start, d.owner_host, d.attempts AS delivery_attempts FROM deliveries d
           JOIN events e ON e.id = d.event_id
          WHERE d.notifier = ? AND d.state = 'sending'
            AND (d.owner_pid IS DISTINCT FROM ? OR d.owner_host IS DISTINCT FROM ?)`,
      ).all(notifier, o.owner.pid, o.owner.host) as Array<
        StoredEvent & { delivery_id: number; owner_pid: number | null; owner_start: string | null; owner_host: string | null; delivery_attempts: number }
      >;
      for (const d of stale) {
        if (o.ownerAlive(d.owner_pid, d.owner_start, d.owner_host)) continue;
        const deliveryId = d.delivery_id;
        stmt(store, "UPDATE deliveries SET owner_pid = ?, owner_start = ?, owner_host = ? WHERE id = ? AND state = 'sending'").run(
          o.owner.pid,
          o.owner.start,
          o.owner.host,
          deliveryId,
        );
        const notification = o.notificationOf(d);
        if (notification) out.push({ id: deliveryId, notification, attempts: d.delivery_attempts });
      }
      return out;
    })
    .immediate();
}

/** Counts one more try of a delivery (before it is made). */
export function countDeliveryTry(store: Store, id: number): void {
  stmt(store, "UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?").run(id);
}

/**
 * Records a delivery's end — `sent`, or `failed` with the `failed` event
 * (`notify_failed`) — in one IMMEDIATE transaction.
 */
export function endDelivery(
  store: Store,
  id: number,
  r: { ok: boolean; attempts: number; error: string | null },
  failed: EventInput | null,
): void {
  store.conn
    .transaction(() => {
      stmt(store, "UPDATE deliveries SET state = ?, attempts = ?, last_error = ?, finished_at = ? WHERE id = ?").run(
        r.ok ? "sent" : "failed",
        r.attempts,
        r.error,
        store.now(),
        id,
      );
      if (failed) appendEvent(store, failed, store.now());
    })
    .immediate();
}
