/**
 * The durable model of aipm, as a drizzle schema. `npm run db:generate`
 * turns changes here into a new SQL migration under migrations/ (append-only:
 * a migration that has landed is never edited).
 *
 * Times are epoch milliseconds (INTEGER). Ids are the user's text ids,
 * unique per project. Status transitions never happen here: they live in
 * ./transitions.ts, each one a guarded statement or IMMEDIATE transaction.
 */
import { sql } from "drizzle-orm";
import {
  sqliteTable,
  text,
  integer,
  real,
  primaryKey,
  uniqueIndex,
  index,
} from "drizzle-orm/sqlite-core";

import type { DepCondition, Priority, TaskStatus } from "./statuses.js";
export { TASK_STATUSES, PRIORITIES, type TaskStatus, type Priority } from "./statuses.js";

export const projects = sqliteTable("projects", {
  id: text("id").primaryKey(),
  root: text("root").notNull(),
  createdAt: integer("created_at").notNull(),
  /** JSON array of Claude Code permission rules every agent task of the project may use (`Bash(npm test *)`). */
  allowedTools: text("allowed_tools"),
  /** A usage limit holds every agent task of the project until this time (epoch ms). */
  agentHoldUntil: integer("agent_hold_until"),
  agentHoldReason: text("agent_hold_reason"),
});

/**
 * Each host's own root for a project (its own clone, with several hosts on one
 * queue): written by `import` and `enqueue` run on that host; an attempt runs in
 * the root of the host that claimed it (`runs.host`), else in `projects.root`.
 */
export const projectRoots = sqliteTable(
  "project_roots",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    host: text("host").notNull(),
    root: text("root").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.host] })],
);

export const orders = sqliteTable(
  "orders",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    title: text("title").notNull().default(""),
    paused: integer("paused", { mode: "boolean" }).notNull().default(false),
    /** Launched and not finished: a supervisor launches its successors. */
    active: integer("active", { mode: "boolean" }).notNull().default(false),
    /** JSON LaunchOptions of the last launch: successors launch under the same limits. */
    launchOptions: text("launch_options"),
    createdAt: integer("created_at").notNull(),
    /** JSON array of permission rules for the order's agent tasks (added to the project's). */
    allowedTools: text("allowed_tools"),
    /** No new agent task of the order launches once its spent cost (USD) reaches this. */
    budgetUsd: real("budget_usd"),
    /** A ready task may stop and requeue a lower-priority running one that holds its slot or files. */
    preempt: integer("preempt", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

export const tasks = sqliteTable(
  "tasks",
  {
    /** Creation order: the tie-breaker after priority. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    orderId: text("order_id").notNull(),
    title: text("title").notNull().default(""),
    priority: text("priority").$type<Priority>().notNull().default("P2"),
    status: text("status").$type<TaskStatus>().notNull().default("QUEUED"),
    /** JSON: an argv array, or a string run by /bin/sh -c. Null for prompt tasks. */
    command: text("command"),
    prompt: text("prompt"),
    timeoutS: real("timeout_s"),
    maxAttempts: integer("max_attempts").notNull().default(3),
    model: text("model"),
    review: integer("review", { mode: "boolean" }).notNull(),
    /** Working directory when it is not the project root (`aipm enqueue` runs where it was called). */
    cwd: text("cwd"),
    /** Number of the latest attempt (the current one while running); never reused, so logs never mix. */
    attempt: integer("attempt").notNull().default(0),
    /** Attempts that count against max_attempts: `retry` resets it, a launch that never started gives one back. */
    spentAttempts: integer("spent_attempts").notNull().default(0),
    /** A QUEUED task is not launched before this time (retry backoff). */
    retryAt: integer("retry_at"),
    pid: integer("pid"),
    exitCode: integer("exit_code"),
    error: text("error"),
    failureKind: text("failure_kind"),
    progressDone: integer("progress_done"),
    progressTotal: integer("progress_total"),
    reviewFeedback: text("review_feedback"),
    result: text("result"),
    /** The current item of its progress (`aipm progress 3/10 "file.png"`). */
    progressLabel: text("progress_label"),
    /** JSON array of permission rules for this task (added to its order's and project's). */
    allowedTools: text("allowed_tools"),
    /** Agent limits passed to the agent: turns, and USD for one attempt. */
    maxTurns: integer("max_turns"),
    maxBudgetUsd: real("max_budget_usd"),
    /** Since when the task has met nothing but transient API trouble (no attempt spent); null otherwise. */
    transientSince: integer("transient_since"),
    /** JSON array of stall warning stages (seconds without output), and the stall kill; null: the settings'. */
    stallWarnS: text("stall_warn_s"),
    stallKillS: real("stall_kill_s"),
    /** SKIPPED: the dependency whose end made its conditions unmeetable (a `retry` of that chain re-evaluates it). */
    skippedBy: text("skipped_by"),
    /** JSON array of host labels (`runs_on`): it launches only on a host that has every one; null: anywhere. */
    runsOn: text("runs_on"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [
    uniqueIndex("tasks_project_id_unique").on(t.projectId, t.id),
    index("tasks_project_order_status").on(t.projectId, t.orderId, t.status),
    index("tasks_project_status").on(t.projectId, t.status),
  ],
);

export const taskDeps = sqliteTable(
  "task_deps",
  {
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    depId: text("dep_id").notNull(),
    /** success | failure | always (see ./statuses.ts). */
    condition: text("condition").$type<DepCondition>().notNull().default("success"),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.taskId, t.depId] }),
    index("task_deps_dep").on(t.projectId, t.depId),
  ],
);

export const taskFiles = sqliteTable(
  "task_files",
  {
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    position: integer("position").notNull(),
    /** Normalised target path or glob (see src/paths/target-path.ts). */
    path: text("path").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.taskId, t.position] })],
);

/** One row per target entry of a task that is IN_PROGRESS or REVIEW. */
export const locks = sqliteTable(
  "locks",
  {
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    path: text("path").notNull(),
    acquiredAt: integer("acquired_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.taskId, t.path] })],
);

/** One row per attempt of a task. */
export const runs = sqliteTable(
  "runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    attempt: integer("attempt").notNull(),
    pid: integer("pid"),
    /** Process start time (/proc/<pid>/stat field 22): tells a reused pid apart. */
    procStart: text("proc_start"),
    logPath: text("log_path").notNull(),
    startedAt: integer("started_at").notNull(),
    lastOutputAt: integer("last_output_at"),
    finishedAt: integer("finished_at"),
    exitCode: integer("exit_code"),
    signal: text("signal"),
    /** running | reviewing | succeeded | killed | spawn_failed | review_rejected | the failure kind */
    outcome: text("outcome").notNull().default("running"),
    error: text("error"),
    /** The aipm process that claimed the attempt (owns it until the worker's pid is recorded). */
    ownerPid: integer("owner_pid"),
    ownerStart: text("owner_start"),
    /** Set by `aipm kill`: `cancel` or `requeue`; the attempt then ends as killed, not failed. */
    killRequest: text("kill_request"),
    /** Decided at launch: a success goes to REVIEW (the task asks for review and the launch did not say --no-review). */
    review: integer("review", { mode: "boolean" }).notNull().default(false),
    /** What an agent worker reported in its final `result` event (stream-json). */
    sessionId: text("session_id"),
    numTurns: integer("num_turns"),
    durationMs: integer("duration_ms"),
    costUsd: real("cost_usd"),
    /** JSON: the result event's `usage` (tokens). */
    usage: text("usage"),
    /** JSON: the git state when the attempt started ({mode, head, dirty}); null outside git or with AIPM_SCOPE=off. */
    scopeBase: text("scope_base"),
    /** JSON array: files changed during the attempt outside its target_files. */
    outOfScope: text("out_of_scope"),
    /** The review process of a successful attempt (the task is REVIEW while it runs). */
    reviewPid: integer("review_pid"),
    reviewProcStart: text("review_proc_start"),
    reviewLogPath: text("review_log_path"),
    reviewStartedAt: integer("review_started_at"),
    /** What the reviewer reported (its result event), when it speaks stream-json. */
    reviewCostUsd: real("review_cost_usd"),
    reviewNumTurns: integer("review_num_turns"),
    /** A review to run again (no verdict last time) is not started before this time. */
    reviewRetryAt: integer("review_retry_at"),
    /** Review processes started for this attempt (a review that vanished is run again, up to a limit). */
    reviewRuns: integer("review_runs").notNull().default(0),
    /** JSON array: the files this attempt's own Edit/Write tool calls touched (agents). */
    editedFiles: text("edited_files"),
    /** JSON array: what the agent was refused ([{tool, target}]). */
    denials: text("denials"),
    /** The session this attempt continued (`--resume`), when it did. */
    resumedFrom: text("resumed_from"),
    /** The host whose aipm claimed the attempt (AIPM_HOST, else the hostname); null for attempts older than hosts. */
    host: text("host"),
  },
  (t) => [
    uniqueIndex("runs_task_attempt").on(t.projectId, t.taskId, t.attempt),
    index("runs_outcome").on(t.outcome),
  ],
);

/** The event log: what happened, in order. Notifiers and the dashboard read it. */
export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    ts: integer("ts").notNull(),
    projectId: text("project_id"),
    orderId: text("order_id"),
    taskId: text("task_id"),
    attempt: integer("attempt"),
    kind: text("kind").notNull(),
    /** JSON object with the event's details. */
    data: text("data").notNull().default(sql`'{}'`),
  },
  (t) => [index("events_project_task").on(t.projectId, t.taskId)],
);

/**
 * The machine as the dashboard sampled it (every 5 s, the last 24 hours kept):
 * its charts survive a restart. Percentages; null where not measured.
 * No longer written here: samples now go to their own file
 * (src/store/machine-samples.ts), so that one never moves this database's
 * `data_version`; rows left here are read until they age out.
 */
export const machineSamples = sqliteTable("machine_samples", {
  /** Epoch ms of the sample. */
  t: integer("t").primaryKey(),
  cpu: real("cpu").notNull(),
  mem: real("mem").notNull(),
  /** Effective workers auto-scaling gives, and the tasks running (IN_PROGRESS, REVIEW). */
  workers: integer("workers").notNull(),
  running: integer("running").notNull(),
  /** The busiest GPU's utilisation and the fullest GPU's memory. */
  gpu: real("gpu"),
  gpuMem: real("gpu_mem"),
  /** Used space of the database's file system, and the fullest of the projects' roots. */
  diskDb: real("disk_db"),
  diskRoot: real("disk_root"),
  /** The limits in force then (the charts' thresholds). */
  maxCpu: real("max_cpu").notNull(),
  maxMemory: real("max_memory").notNull(),
  maxWorkers: integer("max_workers").notNull(),
});

export type ProjectRow = typeof projects.$inferSelect;
export type OrderRow = typeof orders.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type EventRow = typeof events.$inferSelect;

/**
 * The supervisor lease: at most one aipm process per project and host
 * supervises its running tasks there and launches successors. A lease whose process is gone (pid
 * dead, or reused: the start time differs) is taken over at once.
 */
export const supervisors = sqliteTable(
  "supervisors",
  {
    projectId: text("project_id").notNull(),
    /** The host whose aipm holds this lease: one supervisor per project on each host (docs/hosts.md). */
    host: text("host").notNull().default(""),
    pid: integer("pid").notNull(),
    procStart: text("proc_start"),
    startedAt: integer("started_at").notNull(),
    heartbeatAt: integer("heartbeat_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.host] })],
);

/**
 * The hosts sharing this database (docs/hosts.md): each host's supervisors
 * renew its heartbeat every AIPM_HOST_LEASE_S / 3, with its labels and its
 * last resource sample; a claim records its host here too. A host silent
 * past the lease is dead: another host recovers its attempts.
 */
export const hosts = sqliteTable("hosts", {
  host: text("host").primaryKey(),
  /** JSON array of its labels (AIPM_HOST_LABELS) when it last renewed. */
  labels: text("labels").notNull().default("[]"),
  heartbeatAt: integer("heartbeat_at").notNull(),
  /** When this row was first written (the host first seen). */
  startedAt: integer("started_at").notNull(),
  /** Its last resource sample, when a supervisor measured one: percent. */
  cpuPercent: real("cpu_percent"),
  memoryPercent: real("memory_percent"),
  /** The aipm version that last renewed it. */
  version: text("version"),
});

/**
 * One row per notification a notifier is to send: the claim (a unique
 * notifier + dedupe key, inserted in one IMMEDIATE transaction) is what makes
 * a failure notified once across processes and restarts. `sending` rows whose
 * owner died are claimed again by the next process that delivers.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    notifier: text("notifier").notNull(),
    eventId: integer("event_id").notNull(),
    /** `<kind>:<project>/<task>#<attempt>` for a task's failure, `event:<id>` otherwise. */
    dedupeKey: text("dedupe_key").notNull(),
    /** sending | sent | failed */
    state: text("state").notNull(),
    attempts: integer("attempts").notNull().default(0),
    ownerPid: integer("owner_pid"),
    ownerStart: text("owner_start"),
    /** The host of the owning process: its pid is judged only there; elsewhere by that host's heartbeat. */
    ownerHost: text("owner_host"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (t) => [uniqueIndex("deliveries_notifier_key").on(t.notifier, t.dedupeKey), index("deliveries_state").on(t.state)],
);

/** How far each notifier has looked through the event log. */
export const notifyCursors = sqliteTable("notify_cursors", {
  notifier: text("notifier").primaryKey(),
  lastEventId: integer("last_event_id").notNull(),
});

/** Machine-wide alarms (resources): their state, so that one alarm and one recovery are recorded whoever watches. */
export const alarms = sqliteTable("alarms", {
  name: text("name").primaryKey(),
  /** ok | alarm */
  state: text("state").notNull(),
  since: integer("since").notNull(),
});
