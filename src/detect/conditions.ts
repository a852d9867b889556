/**
 * Conditions on dependencies (`deps: [{task: T, on: success | failure | always}]`):
 * when a dependency lets its dependent run, and when it never will.
 *
 * | condition | satisfied when the dependency is | can no longer be met when it is | blocks (a `retry` may help) |
 * |-----------|----------------------------------|---------------------------------|-----------------------------|
 * | success   | DONE                             | SKIPPED                         | FAILED, CANCELLED           |
 * | failure   | FAILED                           | DONE, CANCELLED, SKIPPED        | —                           |
 * | always    | DONE, FAILED, CANCELLED, SKIPPED | —                               | —                           |
 *
 * A task whose condition can no longer be met ends SKIPPED (src/store/transitions.ts,
 * `skipUnmeetable`); one that is blocked stays QUEUED and is shown as blocked.
 */
import type { DepCondition, TaskStatus } from "../store/statuses.js";

export interface WithConditions {
  deps: readonly string[];
  depOn?: ReadonlyMap<string, DepCondition> | undefined;
}

export function conditionOf(t: WithConditions, dep: string): DepCondition {
  return t.depOn?.get(dep) ?? "success";
}

export function depSatisfied(condition: DepCondition, status: TaskStatus | undefined): boolean {
  switch (condition) {
    case "success":
      return status === "DONE";
    case "failure":
      return status === "FAILED";
    case "always":
      return status === "DONE" || status === "FAILED" || status === "CANCELLED" || status === "SKIPPED";
  }
}

export function depUnmeetable(condition: DepCondition, status: TaskStatus | undefined): boolean {
  switch (condition) {
    case "success":
      return status === "SKIPPED";
    case "failure":
      return status === "DONE" || status === "CANCELLED" || status === "SKIPPED";
    case "always":
      return false;
  }
}

/** A failed or cancelled dependency that blocks its dependent (rather than letting it run or skip it). */
export function depBlocks(condition: DepCondition, status: TaskStatus | undefined): boolean {
  return condition === "success" && (status === "FAILED" || status === "CANCELLED");
}
