/**
 * The same model as ../schema.ts (SQLite), for PostgreSQL. `npx drizzle-kit
 * generate --config drizzle.config.pg.ts` turns changes here into a migration
 * under migrations-pg/ (append-only, like migrations/).
 *
 * Two definitions, one model: every change to ../schema.ts is made here too,
 * and tests/pg/schema-parity.test.ts fails until both have the same tables,
 * columns, nullability, defaults, keys and indexes. (One definition for both
 * dialects would need a column factory typed for both drizzle dialects: their
 * column builders share no type, and the row types every store module infers
 * from ../schema.ts would be lost.)
 *
 * Types: epoch milliseconds (INTEGER in SQLite) are BIGINT read as JS numbers;
 * SQLite's 0/1 booleans are BOOLEAN; REAL is DOUBLE PRECISION (8 bytes, as in
 * SQLite); autoincrement keys are SERIAL. JSON stays TEXT, as in SQLite, so
 * statements read it the same way.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  serial,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";

import type { DepCondition, Priority, TaskStatus } from "../statuses.js";

export const projects = pgTable("projects", {
  id: text("id").primaryKey(),
  root: text("root").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  /** JSON array of Claude Code permission rules every agent task of the project may use (`Bash(npm test *)`). */
  allowedTools: text("allowed_tools"),
  /** A usage limit holds every agent task of the project until this time (epoch ms). */
  agentHoldUntil: bigint("agent_hold_until", { mode: "number" }),
  agentHoldReason: text("agent_hold_reason"),
});

/**
 * Each host's own root for a project (its own clone, with several hosts on one
 * queue): written by `import` and `enqueue` run on that host; an attempt runs in
 * the root of the host that claimed it (`runs.host`), else in `projects.root`.
 */
export const projectRoots = pgTable(
  "project_roots",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    host: text("host").notNull(),
    root: text("root").notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.host] })],
);

export const orders = pgTable(
  "orders",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    title: text("title").notNull().default(""),
    paused: boolean("paused").notNull().default(false),
    /** Launched and not finished: a supervisor launches its successors. */
    active: boolean("active").notNull().default(false),
    /** JSON LaunchOptions of the last launch: successors launch under the same limits. */
    launchOptions: text("launch_options"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    /** JSON array of permission rules for the order's agent tasks (added to the project's). */
    allowedTools: text("allowed_tools"),
    /** No new agent task of the order launches once its spent cost (USD) reaches this. */
    budgetUsd: doublePrecision("budget_usd"),
    /** A ready task may stop and requeue a lower-priority running one that holds its slot or files. */
    preempt: boolean("preempt").notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

export const tasks = pgTable(
  "tasks",
  {
    /** Creation order: the tie-breaker after priority. */
    seq: serial("seq").primaryKey(),
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
    timeoutS: doublePrecision("timeout_s"),
    maxAttempts: integer("max_attempts").notNull().default(3),
    model: text("model"),
    review: boolean("review").notNull(),
    /** Working directory when it is not the project root (`aipm enqueue` runs where it was called). */
    cwd: text("cwd"),
    /** Number of the latest attempt (the current one while running); never reused, so logs never mix. */
    attempt: integer("attempt").notNull().default(0),
    /** Attempts that count against max_attempts: `retry` resets it, a launch that never started gives one back. */
    spentAttempts: integer("spent_attempts").notNull().default(0),
    /** A QUEUED task is not launched before this time (retry backoff). */
    retryAt: bigint("retry_at", { mode: "number" }),
    pid: integer("pid"),
    exitCode: integer("exit_code"),
    error: text("error"),
    failureKind: text("failure_kind"),
    progressDone: bigint("progress_done", { mode: "number" }),
    progressTotal: bigint("progress_total", { mode: "number" }),
    reviewFeedback: text("review_feedback"),
    result: text("result"),
    /** The current item of its progress (`aipm progress 3/10 "file.png"`). */
    progressLabel: text("progress_label"),
    /** JSON array of permission rules for this task (added to its order's and project's). */
    allowedTools: text("allowed_tools"),
    /** Agent limits passed to the agent: turns, and USD for one attempt. */
    maxTurns: integer("max_turns"),
    maxBudgetUsd: doublePrecision("max_budget_usd"),
    /** Since when the task has met nothing but transient API trouble (no attempt spent); null otherwise. */
    transientSince: bigint("transient_since", { mode: "number" }),
    /** JSON array of stall warning stages (seconds without output), and the stall kill; null: the settings'. */
    stallWarnS: text("stall_warn_s"),
    stallKillS: doublePrecision("stall_kill_s"),
    /** SKIPPED: the dependency whose end made its conditions unmeetable (a `retry` of that chain re-evaluates it). */
    skippedBy: text("skipped_by"),
    /** JSON array of host labels (`runs_on`): it launches only on a host that has every one; null: anywhere. */
    runsOn: text("runs_on"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
    startedAt: bigint("started_at", { mode: "number" }),
    finishedAt: bigint("finished_at", { mode: "number" }),
  },
  (t) => [
    uniqueIndex("tasks_project_id_unique").on(t.projectId, t.id),
    index("tasks_project_order_status").on(t.projectId, t.orderId, t.status),
    index("tasks_project_status").on(t.projectId, t.status),
  ],
);

export const taskDeps = pgTable(
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

export const taskFiles = pgTable(
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
export const locks = pgTable(
  "locks",
  {
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    path: text("path").notNull(),
    acquiredAt: bigint("acquired_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.taskId, t.path] })],
);

/** One row per attempt of a task. */
export const runs = pgTable(
  "runs",
  {
    id: serial("id").primaryKey(),
    projectId: text("project_id").notNull(),
    taskId: text("task_id").notNull(),
    attempt: integer("attempt").notNull(),
    pid: integer("pid"),
    /** Process start time (/proc/<pid>/stat field 22): tells a reused pid apart. */
    procStart: text("proc_start"),
    logPath: text("log_path").notNull(),
    startedAt: bigint("started_at", { mode: "number" }).notNull(),
    lastOutputAt: bigint("last_output_at", { mode: "number" }),
    finishedAt: bigint("finished_at", { mode: "number" }),
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
    review: boolean("review").notNull().default(false),
    /** What an agent worker reported in its final `result` event (stream-json). */
    sessionId: text("session_id"),
    numTurns: integer("num_turns"),
    durationMs: bigint("duration_ms", { mode: "number" }),
    costUsd: doublePrecision("cost_usd"),
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
    reviewStartedAt: bigint("review_started_at", { mode: "number" }),
    /** What the reviewer reported (its result event), when it speaks stream-json. */
    reviewCostUsd: doublePrecision("review_cost_usd"),
    reviewNumTurns: integer("review_num_turns"),
    /** A review to run again (no verdict last time) is not started before this time. */
    reviewRetryAt: bigint("review_retry_at", { mode: "number" }),
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
export const events = pgTable(
  "events",
  {
    id: serial("id").primaryKey(),
    ts: bigint("ts", { mode: "number" }).notNull(),
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
 */
export const machineSamples = pgTable("machine_samples", {
  /** Epoch ms of the sample. */
  t: bigint("t", { mode: "number" }).primaryKey(),
  cpu: doublePrecision("cpu").notNull(),
  mem: doublePrecision("mem").notNull(),
  /** Effective workers auto-scaling gives, and the tasks running (IN_PROGRESS, REVIEW). */
  workers: integer("workers").notNull(),
  running: integer("running").notNull(),
  /** The busiest GPU's utilisation and the fullest GPU's memory. */
  gpu: doublePrecision("gpu"),
  gpuMem: doublePrecision("gpu_mem"),
  /** Used space of the database's file system, and the fullest of the projects' roots. */
  diskDb: doublePrecision("disk_db"),
  diskRoot: doublePrecision("disk_root"),
  /** The limits in force then (the charts' thresholds). */
  maxCpu: doublePrecision("max_cpu").notNull(),
  maxMemory: doublePrecision("max_memory").notNull(),
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
export const supervisors = pgTable(
  "supervisors",
  {
    projectId: text("project_id").notNull(),
    /** The host whose aipm holds this lease: one supervisor per project on each host (docs/hosts.md). */
    host: text("host").notNull().default(""),
    pid: integer("pid").notNull(),
    procStart: text("proc_start"),
    startedAt: bigint("started_at", { mode: "number" }).notNull(),
    heartbeatAt: bigint("heartbeat_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.host] })],
);

/**
 * The hosts sharing this database (docs/hosts.md): each host's supervisors
 * renew its heartbeat every AIPM_HOST_LEASE_S / 3, with its labels and its
 * last resource sample; a claim records its host here too. A host silent
 * past the lease is dead: another host recovers its attempts.
 */
export const hosts = pgTable("hosts", {
  host: text("host").primaryKey(),
  /** JSON array of its labels (AIPM_HOST_LABELS) when it last renewed. */
  labels: text("labels").notNull().default("[]"),
  heartbeatAt: bigint("heartbeat_at", { mode: "number" }).notNull(),
  /** When this row was first written (the host first seen). */
  startedAt: bigint("started_at", { mode: "number" }).notNull(),
  /** Its last resource sample, when a supervisor measured one: percent. */
  cpuPercent: doublePrecision("cpu_percent"),
  memoryPercent: doublePrecision("memory_percent"),
  /** The aipm version that last renewed it. */
  version: text("version"),
});

/**
 * One row per notification a notifier is to send: the claim (a unique
 * notifier + dedupe key, inserted in one IMMEDIATE transaction) is what makes
 * a failure notified once across processes and restarts. `sending` rows whose
 * owner died are claimed again by the next process that delivers.
 */
export const deliveries = pgTable(
  "deliveries",
  {
    id: serial("id").primaryKey(),
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
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    finishedAt: bigint("finished_at", { mode: "number" }),
  },
  (t) => [uniqueIndex("deliveries_notifier_key").on(t.notifier, t.dedupeKey), index("deliveries_state").on(t.state)],
);

/** How far each notifier has looked through the event log. */
export const notifyCursors = pgTable("notify_cursors", {
  notifier: text("notifier").primaryKey(),
  lastEventId: integer("last_event_id").notNull(),
});

/** Machine-wide alarms (resources): their state, so that one alarm and one recovery are recorded whoever watches. */
export const alarms = pgTable("alarms", {
  name: text("name").primaryKey(),
  /** ok | alarm */
  state: text("state").notNull(),
  since: bigint("since", { mode: "number" }).notNull(),
});
