/**
 * Priority preemption (opt-in: an order's `preempt: true`, or `--preempt` on
 * its launch). When a ready task cannot start only because lower-priority
 * work holds the slots (`capacity`) or its files (`file_conflict`), the
 * supervisor stops one running task of strictly lower priority and requeues
 * it with its attempt given back (kill request `preempt`; an agent resumes
 * its session when it runs again). The victim: for a file conflict, the
 * holder; for capacity, the lowest-priority running task, the most recently
 * started among equals (the least work lost).
 *
 * Never a task of equal or higher priority, never one in REVIEW, never the
 * same task twice in a row for the same waiting task, and one preemption in
 * flight per waiting task. The cost: an interrupted run's work since its last
 * checkpoint (or an agent's turns since its session's last save) is lost.
 */
import type { Priority } from "../store/schema.js";
import type { SkipReason } from "../detect/select.js";

const RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

export interface RunningWork {
  task: string;
  priority: Priority;
  startedAt: number;
}

export interface PreemptionMemory {
  /** Waiting task -> its victim still stopping. */
  inFlight: Map<string, string>;
  /** Waiting task -> its last victim (not chosen again in a row). */
  last: Map<string, string>;
}

/** The task to stop for `waiting`, or null. */
export function pickVictim(
  waiting: { task: string; priority: Priority },
  skip: SkipReason,
  running: readonly RunningWork[],
  memory: PreemptionMemory,
): string | null {
  if (skip.reason !== "capacity" && skip.reason !== "file_conflict") return null;
  if (memory.inFlight.has(waiting.task)) return null;
  const taken = new Set(memory.inFlight.values());
  let best: RunningWork | null = null;
  for (const r of running) {
    if (skip.reason === "file_conflict" && r.task !== skip.held_by) continue;
    if (RANK[r.priority] <= RANK[waiting.priority]) continue;
    if (taken.has(r.task) || memory.last.get(waiting.task) === r.task) continue;
    if (!best || RANK[r.priority] > RANK[best.priority] || (RANK[r.priority] === RANK[best.priority] && r.startedAt > best.startedAt)) best = r;
  }
  return best?.task ?? null;
}
