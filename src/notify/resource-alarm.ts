/**
 * The resource alarm: CPU or memory above its limit (the launch's --max-cpu /
 * --max-memory) for longer than AIPM_ALARM_AFTER_S (default 60) records one
 * `resource_alarm` event; back under both limits for as long records one
 * `resource_recovered`. The state lives in the database (`alarms`), changed
 * by guarded statements: several supervisors watching the same machine
 * raise one alarm, and a restart does not raise it again.
 */
import { storeIsOpen, type Store } from "../store/open.js";
import { alarmState, turnAlarm } from "../store/alarms.js";
import type { ResourceSample } from "../resources/monitor.js";
import { numberSetting } from "../config/settings.js";

export function resolveAlarmAfterS(env: NodeJS.ProcessEnv): number {
  return numberSetting(env, "AIPM_ALARM_AFTER_S");
}

const NAME = "resources";

export class ResourceAlarm {
  private overSince: number | null = null;
  private underSince: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly afterS: number,
  ) {}

  /**
   * Returns what was recorded: `alarm`, `recovered`, or null. Both directions
   * must hold for AIPM_ALARM_AFTER_S, counted from this process's first sample
   * on that side and from the alarm's last change (whoever made it): two
   * supervisors that disagree (other limits) change it at most once per
   * period each way, instead of every second.
   */
  feed(sample: ResourceSample, limits: { maxCpu: number; maxMemory: number }): "alarm" | "recovered" | null {
    if (!storeIsOpen(this.store)) return null;
    const now = sample.takenAt;
    const over = sample.cpuPercent > limits.maxCpu || sample.memoryPercent > limits.maxMemory;
    const data = {
      cpu_percent: sample.cpuPercent,
      memory_percent: sample.memoryPercent,
      max_cpu: limits.maxCpu,
      max_memory: limits.maxMemory,
    };
    const row = alarmState(this.store, NAME);
    const changedAt = row?.since ?? -Infinity;
    if (over) {
      this.underSince = null;
      this.overSince ??= now;
      const from = Math.max(this.overSince, row?.state === "ok" ? changedAt : -Infinity);
      if (row?.state === "alarm" || now - from < this.afterS * 1000) return null;
      return this.turn("ok", "alarm", now, { ...data, over_s: Math.round((now - this.overSince) / 1000) }) ? "alarm" : null;
    }
    this.overSince = null;
    if (row?.state !== "alarm") return null;
    this.underSince ??= now;
    // Recovery waits as long as the alarm did (at least one sample under the limits).
    const from = Math.max(this.underSince, changedAt);
    if (now - from < this.afterS * 1000) return null;
    return this.turn("alarm", "ok", now, data) ? "recovered" : null;
  }

  private turn(from: "ok" | "alarm", to: "ok" | "alarm", now: number, data: Record<string, unknown>): boolean {
    return turnAlarm(this.store, NAME, { from, to, now }, { kind: to === "alarm" ? "resource_alarm" : "resource_recovered", data });
  }
}
