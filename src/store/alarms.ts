/**
 * Table `alarms`: the state of each alarm (`ok` or `alarm`) and since when,
 * changed only by guarded statements so that several processes watching the
 * same machine change it once.
 */
import type { Store } from "./open.js";
import { stmt } from "./statements.js";
import { appendEvent } from "./events.js";

export type AlarmState = "ok" | "alarm";

export function alarmState(store: Store, name: string): { state: string; since: number } | undefined {
  return stmt(store, "SELECT state, since FROM alarms WHERE name = ?").get(name) as { state: string; since: number } | undefined;
}

/**
 * Turns the alarm from `from` to `to` and records `event`, in one IMMEDIATE
 * transaction; false, changing nothing, when the alarm was not in `from`.
 */
export function turnAlarm(
  store: Store,
  name: string,
  change: { from: AlarmState; to: AlarmState; now: number },
  event: { kind: string; data: Record<string, unknown> },
): boolean {
  const { from, to, now } = change;
  return store.conn
    .transaction(() => {
      stmt(store, "INSERT INTO alarms (name, state, since) VALUES (?, 'ok', ?) ON CONFLICT DO NOTHING").run(name, now);
      if (stmt(store, "UPDATE alarms SET state = ?, since = ? WHERE name = ? AND state = ?").run(to, now, name, from).changes !== 1) return false;
      appendEvent(store, { kind: event.kind, data: event.data }, now);
      return true;
    })
    .immediate();
}
