/**
 * Launching an order and leaving it to a detached supervisor — what
 * `parallel-launch` does without `--wait`, and the MCP `launch` tool.
 */
import type { Store } from "../store/open.js";
import type { LaunchReport } from "../launch/plan-launch.js";
import { launchOrder, type LaunchOrderInput } from "./launch-order.js";
import { ensureSupervisor } from "./ensure-supervisor.js";

export async function startOrder(store: Store, input: Omit<LaunchOrderInput, "dryRun">): Promise<LaunchReport> {
  const { report, launched } = await launchOrder(store, { ...input, dryRun: false });
  for (const l of launched) l.worker.child?.unref();
  ensureSupervisor(store, input.project, input.env);
  return report;
}

/** A launch report in a few characters: how many launched, skipped by reason, start failures. */
export function launchDigest(r: LaunchReport): { order: string; launched: number; running: number; skipped: Record<string, number>; failed?: LaunchReport["failed"] } {
  const skipped: Record<string, number> = {};
  for (const s of r.skipped) skipped[s.reason] = (skipped[s.reason] ?? 0) + 1;
  return { order: r.order, launched: r.launched.length, running: r.running, skipped, ...(r.failed.length ? { failed: r.failed } : {}) };
}
