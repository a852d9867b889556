/**
 * How an attempt ended, from what was observed: the wrapper's exit status
 * (from the child's exit event or its exit file), a signal, a worker that
 * vanished without a status, a kill aipm itself sent (timeout, stall), or a
 * kill requested with `aipm kill`.
 *
 * Failure kinds: `exit_code`, `signal`, `crashed`, `timeout`, `stalled`.
 */
import type { KillRequest } from "../store/transitions.js";
import type { AttemptEnd } from "../store/transitions.js";

export interface Observed {
  exitCode: number | null;
  signal: string | null;
  /** The worker is gone and left no exit status (kill -9 of its group, a reboot). */
  vanished: boolean;
  /** aipm killed it: its time limit, the stall limit, or an agent still running after its final result. */
  killedFor: "timeout" | "stalled" | "after_result" | "preempted" | null;
  killRequest: KillRequest | null;
  timeoutS?: number | null;
  stallKillS?: number;
}

export function classifyEnd(o: Observed): AttemptEnd {
  // Preempted, but it had finished its work by itself: that success stands.
  if (o.killRequest === "preempt" && o.exitCode === 0 && !o.signal) return { kind: "success", exitCode: 0 };
  if (o.killRequest) return { kind: "killed", request: o.killRequest, exitCode: o.exitCode, signal: o.signal };
  if (o.killedFor === "timeout") {
    return { kind: "failed", failureKind: "timeout", exitCode: o.exitCode, signal: o.signal, error: `timed out after ${o.timeoutS ?? "?"}s` };
  }
  if (o.killedFor === "stalled") {
    return { kind: "failed", failureKind: "stalled", exitCode: o.exitCode, signal: o.signal, error: `no output for ${o.stallKillS ?? "?"}s: killed` };
  }
  // The agent had given its result and hung: the result decides (src/agent/agent-outcome.ts).
  if (o.killedFor === "after_result") return { kind: "success", exitCode: 0 };
  if (o.vanished) {
    return { kind: "failed", failureKind: "crashed", exitCode: null, signal: o.signal, error: "worker vanished without an exit status" };
  }
  if (o.signal) return { kind: "failed", failureKind: "signal", exitCode: null, signal: o.signal, error: `killed by ${o.signal}` };
  if (o.exitCode === 0) return { kind: "success", exitCode: 0 };
  const code = o.exitCode ?? -1;
  const error = code > 128 && code < 160 ? `exit code ${code} (signal ${code - 128})` : `exit code ${code}`;
  return { kind: "failed", failureKind: "exit_code", exitCode: code, signal: null, error };
}
