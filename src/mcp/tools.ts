/**
 * The MCP tools: the PM's whole loop, each a call into the same library
 * functions the CLI uses. Names, descriptions and schemas are short on
 * purpose: a client pays for every tool definition on every turn. Results are
 * one line of JSON — the same documents as the CLI's `--json`, or a digest
 * where the CLI's would be long (launch, status).
 */
import { resolveRuntimeOptions } from "../config/runtime-options.js";
import { resolveLaunchOptions } from "../config/launch-options.js";
import { createResourceMonitor } from "../resources/monitor.js";
import type { Store } from "../store/open.js";
import { getOrder } from "../store/read-project.js";
import { orderProgress } from "../store/tasks-read.js";
import { parsePlanText, readPlanFile } from "../plan/read-plan-file.js";
import { importPlan } from "../plan/import-plan.js";
import { thisHost } from "../config/host.js";
import { launchDigest, startOrder } from "../runtime/start-order.js";
import { waitForOrder, orderSettled, type FinishedTask } from "../runtime/wait-order.js";
import { activeOrders, waitForAll } from "../runtime/wait-all.js";
import { activateOrder, withScale } from "../runtime/launch-order.js";
import { killAction, pauseAction, retryAction } from "../runtime/task-actions.js";
import { findTask } from "../runtime/find-task.js";
import { logTail, MAX_TAIL_LINES } from "../runtime/log-tail.js";
import { statusDigest } from "../report/status-digest.js";
import { explainTask } from "../report/explain.js";
import { usageError } from "../errors.js";
import type { ArgSchema, Args } from "./args.js";

export interface ToolContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Runs `fn` with the store open (recovering first, as every CLI command does). */
  withStore<T>(fn: (store: Store) => Promise<T> | T, opts?: { orm?: boolean; create?: boolean }): Promise<T>;
  /** Reports progress of a long call (wait): `done` of `total`. */
  progress(done: number, total: number, message: string): void;
  signal: AbortSignal;
}

export interface Tool {
  name: string;
  description: string;
  inputSchema: ArgSchema;
  run(a: Args, ctx: ToolContext): Promise<unknown>;
}

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;
const taskArgs: ArgSchema = { type: "object", properties: { task: str, project: str }, required: ["task"] };
const orderArgs: ArgSchema = { type: "object", properties: { project: str, order: str }, required: ["project", "order"] };

const s = (v: Args[string]) => v as string;
const opt = (v: Args[string]) => v as string | undefined;

function readPlan(plan: string, cwd: string): { data: unknown; baseDir: string } {
  // One line that is not a JSON object: a file path. Anything else: the plan's text.
  if (!plan.includes("\n") && !plan.trimStart().startsWith("{")) return readPlanFile(plan, cwd);
  return { data: parsePlanText(plan, "plan", plan.trimStart().startsWith("{")), baseDir: cwd };
}

async function launch(store: Store, project: string, order: string, env: NodeJS.ProcessEnv) {
  const options = withScale(store, project, order, resolveLaunchOptions({}, env), false);
  const monitor = options.monitoring ? createResourceMonitor({ now: store.now }) : undefined;
  const report = await startOrder(store, { project, order, options, backoffS: resolveRuntimeOptions(env).backoffS, env, monitor });
  return launchDigest(report);
}

export const TOOLS: readonly Tool[] = [
  {
    name: "submit",
    description: "Import a plan (YAML/JSON text or file path) and launch its orders (launch:false to only import).",
    inputSchema: { type: "object", properties: { plan: str, launch: bool }, required: ["plan"] },
    async run(a, ctx) {
      const doc = readPlan(s(a.plan), ctx.cwd);
      return ctx.withStore(async (store) => {
        const r = importPlan(store, doc.data, doc.baseDir, thisHost(ctx.env).name);
        const out: Record<string, unknown> = { project: r.project, added: r.added.length, updated: r.updated.length };
        if (r.kept.length) out.kept = r.kept;
        if (r.warnings.length) out.warnings = r.warnings;
        if (a.launch !== false) out.launched = await Promise.all(r.orders.map((o) => launch(store, r.project, o, ctx.env)));
        else out.orders = r.orders;
        return out;
        // Submitting a plan is the one tool that may create the database (as `aipm import` does).
      }, { create: true });
    },
  },
  {
    name: "launch",
    description: "Launch an order's ready tasks; aipm runs it to its end.",
    inputSchema: orderArgs,
    run: (a, ctx) => ctx.withStore((store) => launch(store, s(a.project), s(a.order), ctx.env)),
  },
  {
    name: "wait",
    description: "Block until the order ends (no order: every active order); returns the summary with what to do per failure.",
    inputSchema: { type: "object", properties: { project: str, order: str, timeout_s: { type: "number" } }, required: [] },
    async run(a, ctx) {
      const project = opt(a.project);
      const order = opt(a.order);
      if (order !== undefined && project === undefined) throw usageError("wait: an order needs its project");
      const timeoutS = a.timeout_s as number | undefined;
      if (timeoutS !== undefined && !(timeoutS >= 0)) throw usageError(`timeout_s: expected seconds from 0 up, got ${timeoutS}`);
      const runtime = resolveRuntimeOptions(ctx.env);
      return ctx.withStore(async (store) => {
        const refs = order !== undefined ? [{ project: project!, order }] : activeOrders(store, project);
        const onFinished = (e: FinishedTask) => {
          const [done, total] = finalOf(store, refs);
          ctx.progress(done, total, `${e.order}/${e.task} ${e.status}${e.failure_kind ? ` ${e.failure_kind}` : ""}`);
        };
        const common = { timeoutS, runtime, env: ctx.env, onFinished, signal: ctx.signal };
        if (order === undefined) return waitForAll(store, { project, ...common });
        const row = getOrder(store, project!, order);
        if (!row.active && !orderSettled(store, project!, order)) activateOrder(store, project!, order, withScale(store, project!, order, resolveLaunchOptions({}, ctx.env), false));
        return waitForOrder(store, { project: project!, order, ...common });
      });
    },
  },
  {
    name: "status",
    description: "Counts, running tasks, failures with the next step, paused orders.",
    inputSchema: { type: "object", properties: { project: str, order: str }, required: [] },
    run: (a, ctx) => ctx.withStore((store) => statusDigest(store, { project: opt(a.project), order: opt(a.order) })),
  },
  {
    name: "retry",
    description: "Requeue a FAILED or CANCELLED task with fresh attempts.",
    inputSchema: taskArgs,
    run: (a, ctx) => ctx.withStore((store) => retryAction(store, { task: s(a.task), project: opt(a.project), env: ctx.env })),
  },
  {
    name: "kill",
    description: "Stop a running task (CANCELLED, or QUEUED with requeue).",
    inputSchema: { type: "object", properties: { task: str, project: str, requeue: bool }, required: ["task"] },
    async run(a, ctx) {
      const r = await ctx.withStore((store) => killAction(store, { task: s(a.task), project: opt(a.project), requeue: a.requeue === true, env: ctx.env }));
      return { project: r.project, task: r.task, was: r.was, status: r.status };
    },
  },
  {
    name: "pause",
    description: "Launch nothing new for an order (resume:true to launch again).",
    inputSchema: { type: "object", properties: { project: str, order: str, resume: bool }, required: ["project", "order"] },
    run: (a, ctx) => ctx.withStore((store) => pauseAction(store, { project: s(a.project), order: s(a.order), paused: a.resume !== true, env: ctx.env })),
  },
  {
    name: "explain",
    description: "Why a task is not running.",
    inputSchema: taskArgs,
    run: (a, ctx) =>
      ctx.withStore((store) => {
        const ref = findTask(store, s(a.task), opt(a.project));
        return explainTask(store, { project: ref.project, task: ref.task });
      }),
  },
  {
    name: "logs",
    description: `Last lines of a task's latest log (default 40, max ${MAX_TAIL_LINES}).`,
    inputSchema: { type: "object", properties: { task: str, project: str, lines: { type: "integer" } }, required: ["task"] },
    async run(a, ctx) {
      const lines = (a.lines as number | undefined) ?? 40;
      if (lines < 1) throw usageError(`lines: expected a number from 1 up, got ${lines}`);
      return ctx.withStore((store) => logTail(store, { task: s(a.task), project: opt(a.project), lines }));
    },
  },
];

/** Tasks of these orders in a final status, and all their tasks. */
function finalOf(store: Store, refs: ReadonlyArray<{ project: string; order: string }>): [number, number] {
  let done = 0;
  let total = 0;
  for (const r of refs) {
    const p = orderProgress(store, r.project, r.order);
    total += p.total;
    done += p.done;
  }
  return [done, total];
}
