/**
 * aipm's library API. The CLI (src/cli/) is a thin layer over these; tests
 * and other programs call them directly.
 */
export { openStore, resolveDbPath, type Store, type OpenOptions } from "./store/open.js";
export { TASK_STATUSES, PRIORITIES, type TaskStatus, type Priority } from "./store/statuses.js";
export { AipmError, usageError, failedError, exitCodeFor } from "./errors.js";

export { importPlan, applyPlan, type ImportResult } from "./plan/import-plan.js";
export { addTask, type AddTaskInput } from "./plan/add-task.js";
export { readPlanFile, parsePlanText } from "./plan/read-plan-file.js";
export { validatePlan } from "./plan/validate.js";
export type { PlanSpec, OrderSpec, TaskSpec } from "./plan/spec.js";

export { normalizeTargetPath, isGlob } from "./paths/target-path.js";
export { targetsConflict, firstConflict } from "./paths/conflicts.js";
export { LockIndex } from "./paths/lock-index.js";

export { detect, type Detection, type SkipReason, type DetectInput } from "./detect/select.js";
export { loadProjectTasks, loadLocks, type TaskNode, type HeldLock } from "./store/read-project.js";

export { resolveLaunchOptions, LAUNCH_DEFAULTS, type LaunchOptions } from "./config/launch-options.js";
export { scaleWorkers, shareForOver, type ScalingDecision } from "./resources/scaling.js";
export { createResourceMonitor, type ResourceMonitor, type ResourceSample } from "./resources/monitor.js";
export { planLaunch, type LaunchReport, type LaunchPlan } from "./launch/plan-launch.js";

export { getStatus, listLocks, type StatusReport } from "./report/status.js";
export { runCli } from "./cli/app.js";

export { launchOrder, type LaunchOrderInput } from "./runtime/launch-order.js";
export { waitForOrder, orderSummary, type WaitSummary, type WaitInput } from "./runtime/wait-order.js";
export { executeTask, type ExecuteInput, type ExecuteResult } from "./runtime/execute-task.js";
export { killAction, retryAction, pauseAction, scaleAction } from "./runtime/task-actions.js";
export { resolveRuntimeOptions, type RuntimeOptions } from "./config/runtime-options.js";

export { AgentStream, type AgentSummary } from "./agent/stream-json.js";
export { agentOutcome } from "./agent/agent-outcome.js";
export { notifySettings, type NotifySettings, type NotifierConfig } from "./notify/notify-config.js";
export { NotifyDispatcher } from "./notify/dispatcher.js";
export { startDashboard, type Dashboard, type DashboardOptions } from "./dashboard/server.js";
