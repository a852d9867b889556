/**
 * The supervisor: runs a project's active orders to their end. It holds the
 * project's lease (one supervisor per project), watches every running attempt
 * — its own children through their exit events, adopted ones through their
 * pid and, once gone, the exit file their wrapper left — follows their logs (progress,
 * last output, stall clock), enforces time limits, records each end, and
 * launches what became launchable, under each order's stored limits.
 *
 * Only the lease holder (the *leader*) adopts and launches. Any other aipm
 * process that waits (`wait`, `parallel-launch --wait`) runs a follower: it
 * records the ends of its own children and tries for the lease every second,
 * so that when the leader dies, a waiter takes over at once.
 *
 * It is not a daemon: `run()` resolves as soon as nothing of the project is
 * running and nothing more can launch (or when `until()` says so), and the
 * process can then exit. If it dies, the workers go on; the next aipm command
 * records what they left behind and a new supervisor adopts the rest.
 *
 * Database trouble never kills it: a write lock held past the busy timeout
 * (a backup, a `sqlite3` shell) makes it try again at the next tick — the
 * end of an attempt, a recorded pid, a failed start are kept in order until
 * they are written — and any other database error (a full disk, an I/O
 * error), or its database file deleted or replaced, stops it: `run()`
 * rejects with one line, the workers go on.
 *
 * A successful attempt launched for review becomes REVIEW: the process that
 * recorded it starts the review process at once and watches it like a
 * worker (phase `review`); a leader also starts the reviews nobody started
 * (their recorder died) and adopts running ones.
 */
import { thisHost, type ThisHost } from "../config/host.js";
import type { Store } from "../store/open.js";
import type { TaskStatus } from "../store/schema.js";
import { recordProgress } from "../store/task-progress.js";
import { isAgentTask, taskStallLimits } from "../store/tasks-read.js";
import { appendEvent } from "../store/events.js";
import { detect } from "../detect/select.js";
import { scaleFor } from "../launch/plan-launch.js";
import type { ResourceMonitor, ResourceSample } from "../resources/monitor.js";
import { MachineRecorder, machinePoint } from "../resources/machine-point.js";
import type { RuntimeOptions } from "../config/runtime-options.js";
import { ProjectView } from "./project-view.js";
import { completeLaunch, failLaunch, launchedFrom, prepareLaunch, type LaunchedTask, type PreparedLaunch } from "./launch-task.js";
import { SpawnerClient } from "./spawner-client.js";
import type { ChildProcess } from "node:child_process";
import { prepareLogDirs, spawnPrepared, type SpawnedWorker } from "./spawn-worker.js";
import { newLogState, pollLog, type LogState } from "./log-watch.js";
import { capLog, resolveLogMaxBytes } from "./log-cap.js";
import { judgeAttempt } from "./conclude-attempt.js";
import { writeBatch } from "../store/write-batch.js";
import { startLoopStats } from "./loop-stats.js";
import { OffThread } from "./off-thread.js";
import type { AgentSummary } from "../agent/stream-json.js";
import { finish, type FinishResult } from "../store/transitions.js";
import { concludeReview, isRerun, spawnReview } from "./review-task.js";
import { isAlive, procStartTime, signalGroup } from "./proc.js";
import { acquireLease, heartbeatLease, releaseLease } from "./lease.js";
import {
  loadInFlight,
  loadReviewsInFlight,
  ownerAlive,
  readExitStatus,
  resolveUnrecorded,
  takeOwnership,
  type InFlight,
} from "./in-flight.js";
import { settleOrders } from "./settle-orders.js";
import { HostHeartbeat, hostLeaseS, isHere, recoverSilentHosts } from "./host-liveness.js";
import { runningOnHost } from "../store/hosts.js";
import { agentGate } from "../store/agent-gates.js";
import { removeTaskStateSoon } from "./task-state.js";
import { pickVictim, type PreemptionMemory, type RunningWork } from "./preemption.js";
import { requestKill } from "../store/transitions.js";
import type { SkipReason } from "../detect/select.js";
import { dispatcherFor, type NotifyDispatcher } from "../notify/dispatcher.js";
import { ResourceAlarm, resolveAlarmAfterS } from "../notify/resource-alarm.js";
import { describeDbError, fileIdentity, isBusy, isDbError } from "../store/db-errors.js";
import { redactDbUrl } from "../store/db-location.js";
import { failedError } from "../errors.js";
import { GitSync, endAfterPublish } from "../git-sync/git-sync.js";
import type { PublishResult } from "../git-sync/publish.js";
import { hostForProject } from "../git-sync/root-need.js";
import { attemptReviewed } from "../store/runs.js";

export interface WatchedAttempt {
  /** `work`: the task's own process; `review`: the review of its successful attempt. */
  phase: "work" | "review";
  project: string;
  order: string;
  task: string;
  attempt: number;
  pid: number;
  procStart: string | null;
  /** Exit events arrive (a child of this process or of its spawner); otherwise its log and pid are polled. */
  events: boolean;
  logPath: string;
  startedAt: number;
  timeoutS: number | null;
  log: LogState;
  lastOutputAt: number;
  /** Warning stages given during the current silence (output resets it). */
  stallStage: number;
  /** The task's stall stages and kill (its own, else the settings'), read at the first look. */
  stall?: { warnS: number[]; killS: number };
  killedFor: "timeout" | "stalled" | "after_result" | "preempted" | null;
  /** When its final result event was read (agents): the process has a grace period to exit. */
  resultSeenAt?: number;
  /** A prompt task run by aipm's agent command (looked up when first needed). */
  agentTask?: boolean;
  killTimer: NodeJS.Timeout | null;
  ended: boolean;
}

export interface SupervisorOptions {
  runtime: RuntimeOptions;
  env: NodeJS.ProcessEnv;
  monitor?: ResourceMonitor | undefined;
  /** Stop early when this holds (checked after every change). Default: when the project is idle. */
  until?: () => boolean;
  /** After every change: a task started, progressed or ended. */
  onChange?: () => void;
  /** A task started (IN_PROGRESS) or an attempt ended (its new status). */
  onTask?: (e: TaskEvent) => void;
  /** A line worth telling (the database was busy past its timeout: retrying). */
  onWarning?: (line: string) => void;
}

export interface TaskEvent {
  task: string;
  order: string;
  status: TaskStatus;
  attempt: number;
  pid: number | null;
}

const SAMPLE_MAX_AGE_MS = 1000;

interface BatchedWrite<T> {
  write: () => T;
  after: (result: T) => void;
}
const HOUSEKEEPING_MS = 1000;
/** Git sync: how soon a launch whose branch was not ready is tried again. */
const BRANCH_RETRY_MS = 1000;

export class Supervisor {
  /** This host (AIPM_HOST, AIPM_HOST_LABELS): tasks whose runs_on it does not meet are skipped. */
  private readonly host: ThisHost;
  readonly view: ProjectView;
  readonly watched = new Map<string, WatchedAttempt>();
  private passQueued = false;
  private passRunning = false;
  private lastPassLaunched = 0;
  private nextRetryAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastHousekeeping = 0;
  private sample: { at: number; value: Promise<ResourceSample> } | null = null;
  /** The machine's history (charts), kept while this supervisor leads and measures (created on first use). */
  private machine: MachineRecorder | null = null;
  private finishRun: (() => void) | null = null;
  private failRun: ((err: Error) => void) | null = null;
  /** Why supervision stopped early (a database error, the database replaced): `run()` rejects with it. */
  private failure: Error | null = null;
  /** Writes that met a busy database, retried in order at each tick. */
  private readonly deferred: Array<() => void> = [];
  /** Ends and pids that arrived in this turn of the event loop: written together (see batch). */
  private batched: Array<BatchedWrite<unknown>> = [];
  private batchQueued = false;
  /** Ended agent attempts whose log is being read on a worker thread. */
  private concluding = 0;
  private readonly offThread = new OffThread();
  private busyWarned = false;
  /** The database file this supervisor opened (device and inode): checked at housekeeping. */
  private readonly dbIdentity: string | null;
  private stopped = false;
  private readonly ownStart = procStartTime(process.pid);
  /** Holds the project's lease: adopts orphans and launches. */
  leader = false;
  private spawner: SpawnerClient | null = null;
  private spawnerFailed = false;
  private readonly children = new Set<ChildProcess>();
  /** Claimed attempts whose process the spawner is starting. */
  private starting = 0;
  /** Reviews to run again at their retry time (see reviewAgainAt). */
  private readonly reviewTimers = new Set<NodeJS.Timeout>();
  private readonly notifier: NotifyDispatcher | null;
  private readonly preemption: PreemptionMemory = { inFlight: new Map(), last: new Map() };
  private readonly alarm: ResourceAlarm;
  /** AIPM_LOG_MAX_MB in bytes: a followed log over it is compacted. */
  private readonly logMaxBytes: number;
  /** DONE tasks' state folders being removed off the thread: run() resolves once they are gone. */
  private readonly removals = new Set<Promise<void>>();
  /** AIPM_LOOP_STATS: writes this supervisor's figures when it stops. */
  private readonly loopStats: (() => void) | null;
  /** This host's heartbeat (AIPM_HOST_LEASE_S / 3), renewed by every supervisor, leader or not. */
  private readonly heartbeat: HostHeartbeat;
  /** The last resource sample measured here: sent with the heartbeat. */
  private lastSample: ResourceSample | null = null;
  /** Git sync (src/git-sync/): null when off, and then nothing of it runs. */
  private readonly gitSync: GitSync | null;
  /** Per order: the last reason its branch was not ready (recorded once as an event, not every retry). */
  private readonly branchWaits = new Map<string, string>();

  constructor(
    private readonly store: Store,
    readonly project: string,
    private readonly opts: SupervisorOptions,
  ) {
    this.host = thisHost(opts.env);
    this.view = new ProjectView(store, project);
    let notifier: NotifyDispatcher | null = null;
    try {
      notifier = dispatcherFor(store, opts.env);
    } catch {
      // A bad notifier setting is reported by the command that started us; supervise without.
    }
    this.notifier = notifier;
    this.alarm = new ResourceAlarm(store, resolveAlarmAfterS(opts.env));
    this.logMaxBytes = resolveLogMaxBytes(opts.env);
    this.dbIdentity = fileIdentity(store.path);
    this.loopStats = startLoopStats(opts.env);
    this.gitSync = GitSync.forProject(store, project, this.host, opts.env);
    this.heartbeat = new HostHeartbeat(store, this.host, hostLeaseS(opts.env));
  }

  /**
   * Renews this host's heartbeat when due. When the previous one was older
   * than the lease (this host was silent: frozen, cut off, its supervisors all
   * gone), other hosts may have recovered its attempts: their processes still
   * running here are killed — their late ends would be refused anyway — and
   * the view re-read.
   */
  private beatHost(force = false): void {
    let beat: ReturnType<HostHeartbeat["beat"]>;
    try {
      beat = this.heartbeat.beat(this.lastSample, force);
    } catch (err) {
      if (isBusy(err)) return;
      throw err;
    }
    if (beat === null || (beat.killed === 0 && beat.silentSince === null)) return;
    if (beat.killed > 0) {
      const silent = beat.silentSince === null ? "" : ` was silent past AIPM_HOST_LEASE_S=${this.heartbeat.leaseS};`;
      this.opts.onWarning?.(`host ${this.host.name}${silent} killed ${beat.killed} of its processes whose attempts other hosts recovered`);
    }
    this.view.reload();
  }

  /** Recovers the attempts of other hosts silent past the lease (leader only; guarded: exactly once across hosts). */
  private recoverOtherHosts(): void {
    const recovered = recoverSilentHosts(this.store, {
      project: this.project,
      host: this.host.name,
      leaseS: this.heartbeat.leaseS,
      backoffS: this.opts.runtime.backoffS,
    });
    if (recovered.length === 0) return;
    this.view.reload();
    for (const r of recovered) {
      const t = this.view.tasks.get(r.task);
      if (t?.retryAt != null) this.nextRetryAt = Math.min(this.nextRetryAt ?? Infinity, t.retryAt);
    }
    this.opts.onChange?.();
  }

  /** Feeds the resource alarm with a sample, while some active order measures resources. */
  private watchResources(): void {
    const o = this.view.orders.find((x) => x.options.monitoring)?.options;
    if (!o) return;
    const pending = this.currentSample();
    if (!pending) return;
    pending.then(
      (sample) => {
        try {
          if (this.stopped) return;
          this.lastSample = sample;
          this.alarm.feed(sample, { maxCpu: o.maxCpu, maxMemory: o.maxMemory });
          if (this.leader) this.recordMachine(sample, o);
        } catch {
          // A busy database: the next sample decides.
        }
      },
      () => {},
    );
  }

  /** Adds the sample to the machine's history unless a point was recorded within its interval (by anyone). */
  private recordMachine(sample: ResourceSample, limits: Parameters<MachineRecorder["record"]>[1]): void {
    this.machine ??= new MachineRecorder(this.store);
    if (this.machine.recentlyRecorded(sample.takenAt)) return;
    this.machine.record(machinePoint(this.store, sample, limits), limits);
  }

  /** Supervises until the project is idle (or `until()` holds), leading when it can take the lease. */
  run(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.finishRun = resolve;
      this.failRun = reject;
      this.timer = setInterval(() => this.guard(() => this.tick()), this.opts.runtime.pollMs);
      this.guard(() => {
        this.beatHost(true);
        this.tryLead();
        this.checkStop();
      });
    });
  }

  // ------------------------------------------------------------ database trouble

  /** Runs `fn`; a busy database is retried later by whoever called, anything else stops supervision. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.trouble(err);
    }
  }

  /** Runs a write now, or — the database busy — at the next ticks, after the ones already waiting. */
  private deferrable(fn: () => void): void {
    if (this.deferred.length > 0) {
      this.deferred.push(fn);
      return;
    }
    try {
      fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      this.deferred.push(fn);
      this.noteBusy();
    }
  }

  /** Retries the waiting writes in order; false while the database is still busy. */
  private runDeferred(): boolean {
    while (this.deferred.length > 0) {
      try {
        this.deferred[0]!();
      } catch (err) {
        if (!isBusy(err)) {
          this.deferred.shift();
          throw err;
        }
        this.noteBusy();
        return false;
      }
      this.deferred.shift();
    }
    this.busyWarned = false;
    return true;
  }

  private trouble(err: unknown): void {
    if (isBusy(err)) {
      this.noteBusy();
      return;
    }
    this.fail(isDbError(err) ? failedError(describeDbError(err, this.store.path)) : (err as Error));
  }

  private noteBusy(): void {
    if (this.busyWarned) return;
    this.busyWarned = true;
    this.opts.onWarning?.(`database ${redactDbUrl(this.store.path)} is locked by another process past the busy timeout; retrying`);
  }

  /** Stops supervising because of `err` (the workers go on); `run()` rejects with it. */
  private fail(err: Error): void {
    if (this.failure || this.stopped) return;
    this.failure = err;
    this.stop();
  }

  private tryLead(): void {
    if (!this.leader && acquireLease(this.store, this.project, this.host.name)) {
      this.leader = true;
      this.view.reload();
      if (this.view.hasAgents) this.offThread.warm();
      // With orders to run, boot the spawner now (~50 ms), while the first workers run,
      // rather than when the first successor is due.
      if (this.view.orders.length > 0) this.ensureSpawner();
    }
    if (this.leader) {
      this.adoptOrphans();
      this.schedulePass();
    }
  }

  /** Watches a worker this process has just launched (its child). */
  watchLaunched(l: LaunchedTask): void {
    const w = this.attempt(l, l.worker.pid, l.worker.procStart, l.worker.child !== null);
    this.watched.set(l.task, w);
    this.opts.onTask?.({ task: l.task, order: l.order, status: "IN_PROGRESS", attempt: l.attempt, pid: l.worker.pid });
    if (l.worker.child) this.followChild(l.worker.child, w);
  }

  /** A child of this process: its exit event ends the attempt (or review). */
  private followChild(child: ChildProcess, w: WatchedAttempt): void {
    // A child that exited before it was handed over (its launcher awaited something in between)
    // has already emitted its exit event: end the attempt from what Node recorded.
    if (child.exitCode !== null || child.signalCode !== null) {
      const [code, signal] = [child.exitCode, child.signalCode];
      queueMicrotask(() => this.guard(() => this.ended(w, { exitCode: code, signal, vanished: false })));
      return;
    }
    this.children.add(child);
    child.once("exit", (code, signal) => {
      this.children.delete(child);
      this.guard(() => this.ended(w, { exitCode: code, signal, vanished: false }));
    });
  }

  /** What is watched of a process: a worker (`work`) or the review of its attempt (`review`). */
  private attempt(
    l: Pick<PreparedLaunch, "project" | "order" | "task" | "attempt" | "logPath" | "startedAt" | "timeoutS">,
    pid: number,
    procStart: string | null,
    events: boolean,
    phase: WatchedAttempt["phase"] = "work",
  ): WatchedAttempt {
    return {
      phase,
      project: l.project,
      order: l.order,
      task: l.task,
      attempt: l.attempt,
      pid,
      procStart,
      events,
      logPath: l.logPath,
      startedAt: l.startedAt,
      timeoutS: l.timeoutS,
      log: newLogState(l.logPath, this.logMaxBytes),
      lastOutputAt: l.startedAt,
      stallStage: 0,
      killedFor: null,
      killTimer: null,
      ended: false,
    };
  }

  // ------------------------------------------------------------ adoption

  private adoptOrphans(): void {
    for (const f of loadInFlight(this.store, this.project)) {
      // Another host's attempt: its pid means nothing here (judged by its host's heartbeat instead).
      if (!isHere(f, this.host.name)) continue;
      if (this.watched.has(f.task)) continue;
      // Our own claims whose process the spawner is still starting: start() records them.
      if (f.ownerPid === process.pid && f.pid === null) continue;
      if (ownerAlive(f) && f.ownerPid !== process.pid) continue;
      if (f.pid === null && resolveUnrecorded(this.store, f, this.opts.runtime) !== "running") continue;
      if (f.ownerPid !== process.pid && !takeOwnership(this.store, f, this.ownStart)) continue;
      this.watchAdopted(f);
    }
    for (const v of loadReviewsInFlight(this.store, this.project)) {
      if (!isHere(v, this.host.name)) continue;
      if (this.watched.has(v.task)) continue;
      if (ownerAlive(v) && v.ownerPid !== process.pid) continue;
      if (v.ownerPid !== process.pid && !takeOwnership(this.store, v, this.ownStart)) continue;
      if (v.reviewPid === null || v.reviewLogPath === null) {
        if (v.reviewRetryAt === null || v.reviewRetryAt <= this.store.now()) this.beginReview(v.order, v.task, v.attempt);
        continue;
      }
      const now = this.store.now();
      const base = { ...v, logPath: v.reviewLogPath, startedAt: now, timeoutS: null };
      this.watched.set(v.task, this.attempt(base, v.reviewPid, v.reviewProcStart, false, "review"));
    }
  }

  /** A worker some other process started: its exit status comes from its exit file once it is gone; the stall clock starts now. */
  private watchAdopted(f: InFlight): void {
    this.watched.set(f.task, { ...this.attempt(f, f.pid!, f.procStart, false), lastOutputAt: this.store.now() });
  }

  // ------------------------------------------------------------ the tick

  private tick(): void {
    if (this.stopped) return;
    if (!this.runDeferred()) return;
    this.beatHost();
    const now = this.store.now();
    const rt = this.opts.runtime;
    for (const w of this.watched.values()) {
      this.followLog(w, now);
      if (!w.events && !isAlive(w.pid, w.procStart)) {
        // The wrapper is gone: its exit file holds the status, or it died without one.
        const status = readExitStatus(w.logPath);
        this.ended(w, { exitCode: status, signal: null, vanished: status === null });
        continue;
      }
      if (w.killedFor) continue;
      if (w.phase === "work" && w.log.agent?.summary.result && (w.agentTask ??= this.isAgentTask(w.project, w.task))) {
        // The agent has given its final result: it gets a short grace to exit, then it is stopped.
        // (A command task that merely prints a result line, running claude as one of its steps, is not.)
        w.resultSeenAt ??= now;
        if (now - w.resultSeenAt >= rt.resultGraceS * 1000) {
          this.event(w, "task_result_grace_kill", { grace_s: rt.resultGraceS });
          this.kill(w, "after_result");
          continue;
        }
      }
      const stall = (w.stall ??= this.stallLimits(w));
      const silentMs = now - w.lastOutputAt;
      if (w.timeoutS !== null && now - w.startedAt >= w.timeoutS * 1000) this.kill(w, "timeout");
      else if (silentMs >= stall.killS * 1000) {
        this.event(w, "task_stall_killed", { silent_s: Math.round(silentMs / 1000) });
        this.kill(w, "stalled");
      } else if (w.stallStage < stall.warnS.length && silentMs >= stall.warnS[w.stallStage]! * 1000) {
        // One event per stage reached (several at once after a long pause of the supervisor: the last one).
        while (w.stallStage < stall.warnS.length && silentMs >= stall.warnS[w.stallStage]! * 1000) w.stallStage++;
        this.event(w, "task_stall_warning", { silent_s: Math.round(silentMs / 1000), stage: w.stallStage, stages: stall.warnS.length });
      }
    }
    if (this.nextRetryAt !== null && this.nextRetryAt <= now) {
      this.nextRetryAt = null;
      this.schedulePass();
    }
    if (now - this.lastHousekeeping >= HOUSEKEEPING_MS) {
      this.lastHousekeeping = now;
      if (this.store.kind === "sqlite" && fileIdentity(this.store.path) !== this.dbIdentity) {
        this.fail(failedError(`database ${this.store.path} was deleted or replaced while this supervisor ran; stopping (the workers go on)`));
        return;
      }
      this.notifier?.pump();
      this.watchResources();
      if (this.leader) {
        heartbeatLease(this.store, this.project, this.host.name);
        this.recoverOtherHosts();
        this.view.refreshIfChanged();
        this.adoptOrphans();
        this.schedulePass();
      } else {
        this.view.refreshIfChanged();
        this.tryLead();
      }
    }
    this.checkStop();
  }

  private followLog(w: WatchedAttempt, now: number): void {
    if (!pollLog(w.log)) return;
    w.lastOutputAt = now;
    w.stallStage = 0;
    if (w.log.progressChanged && w.phase === "work") {
      w.log.progressChanged = false;
      const p = w.log.progress!;
      recordProgress(this.store, { project: w.project, task: w.task, attempt: w.attempt, done: p.done, total: p.total, label: p.label ?? null });
    }
    this.opts.onChange?.();
  }

  /** Stops lower-priority work for ready tasks that wait on it (see ./preemption.ts). */
  private preemptFor(skipped: readonly SkipReason[]): void {
    const running: RunningWork[] = [];
    for (const w of this.watched.values()) {
      const t = this.view.tasks.get(w.task);
      if (t && w.phase === "work" && !w.killedFor && !w.ended && t.status === "IN_PROGRESS") running.push({ task: w.task, priority: t.priority, startedAt: w.startedAt });
    }
    if (running.length === 0) return;
    for (const s of skipped) {
      const t = this.view.tasks.get(s.task);
      if (!t) continue;
      const victim = pickVictim({ task: t.id, priority: t.priority }, s, running, this.preemption);
      if (victim === null) continue;
      const w = this.watched.get(victim)!;
      if (!requestKill(this.store, { project: w.project, task: w.task, attempt: w.attempt, request: "preempt" })) continue;
      this.preemption.inFlight.set(t.id, victim);
      this.preemption.last.set(t.id, victim);
      this.event(w, "task_preempting", { by: t.id, by_priority: t.priority, reason: s.reason });
      this.kill(w, "preempted");
    }
  }

  /** A task's own stall stages and kill (`stall_warn_s`, `stall_kill_s`), else the settings'. */
  private stallLimits(w: WatchedAttempt): { warnS: number[]; killS: number } {
    const rt = this.opts.runtime;
    const row = taskStallLimits(this.store, w.project, w.task);
    return {
      warnS: row?.stall_warn_s ? (JSON.parse(row.stall_warn_s) as number[]) : rt.stallWarnS,
      killS: row?.stall_kill_s ?? rt.stallKillS,
    };
  }

  private isAgentTask(project: string, task: string): boolean {
    return isAgentTask(this.store, project, task);
  }

  private kill(w: WatchedAttempt, why: NonNullable<WatchedAttempt["killedFor"]>): void {
    w.killedFor = why;
    signalGroup(w.pid, "SIGTERM");
    w.killTimer = setTimeout(() => signalGroup(w.pid, "SIGKILL"), this.opts.runtime.killGraceS * 1000);
    w.killTimer.unref();
  }

  private event(w: WatchedAttempt, kind: string, data: Record<string, unknown>): void {
    appendEvent(this.store, { kind, projectId: w.project, orderId: w.order, taskId: w.task, attempt: w.attempt, data }, this.store.now());
  }

  // ------------------------------------------------------------ an attempt ends

  private ended(w: WatchedAttempt, seen: { exitCode: number | null; signal: string | null; vanished: boolean }): void {
    for (const [by, victim] of this.preemption.inFlight) if (victim === w.task) this.preemption.inFlight.delete(by);
    if (w.ended) return;
    w.ended = true;
    this.watched.delete(w.task);
    if (w.killTimer) clearTimeout(w.killTimer);
    // Deferred when the database is busy (its log's last progress line is a write): retried, never dropped.
    if (w.phase === "review" && this.gitSync && seen.exitCode === 0 && !seen.vanished && w.killedFor === null) this.publishThenReviewEnd(w, seen);
    else if (w.phase === "review") this.deferrable(() => this.recordReviewEnd(w, seen));
    else this.deferrable(() => this.recordEnd(w, seen));
  }

  /**
   * Queues a write to run with the others that arrive in this turn of the
   * event loop, in one transaction; `after` acts on its result once that
   * transaction is committed (a busy database: the whole batch again at the
   * next ticks, after the writes already waiting).
   */
  private batch<T>(write: () => T, after: (result: T) => void = () => {}): void {
    this.batched.push({ write, after } as BatchedWrite<unknown>);
    if (this.batchQueued) return;
    this.batchQueued = true;
    setImmediate(() => {
      this.batchQueued = false;
      if (!this.stopped) this.guard(() => this.flushBatch());
    });
  }

  /** Writes the queued batch now (or defers it, the database busy), then acts on each result. */
  private flushBatch(): void {
    const items = this.batched;
    if (items.length === 0) return;
    this.batched = [];
    this.deferrable(() => {
      const results = items.length === 1 ? [items[0]!.write()] : writeBatch(this.store, () => items.map((i) => i.write()));
      // Committed: each is acted on by itself (a busy database meeting one does not write the batch again).
      for (let k = 0; k < items.length; k++) this.guard(() => items[k]!.after(results[k]));
      this.schedulePass();
    });
  }

  /**
   * Records an attempt's end: judged (reads: its run, its log, the scope
   * check), then written with the other ends of this turn (see batch). An
   * agent's log is read back on a worker thread first (./off-thread.ts).
   */
  private recordEnd(w: WatchedAttempt, seen: { exitCode: number | null; signal: string | null; vanished: boolean }): void {
    this.followLog(w, this.store.now());
    // A writer faster than the compaction's catch-up can leave the log over its cap: once more, now that it is done.
    if (w.log.offset > w.log.maxBytes) capLog(w.logPath, w.log.maxBytes);
    if (!(w.agentTask ??= this.isAgentTask(w.project, w.task))) {
      this.judgeEnd(w, seen);
      return;
    }
    this.concluding++;
    void this.offThread.readAgentLog(w.logPath).then(
      (agent) => {
        this.concluding--;
        if (this.stopped) return;
        this.guard(() => this.judgeEnd(w, seen, { agent }));
        this.checkStop();
      },
      (err: unknown) => {
        // The log could not be read even in place (an I/O error): supervision stops with one line,
        // as any broken store or disk does; the wrapper's exit file keeps the end for the next process.
        this.concluding--;
        this.trouble(err);
        this.checkStop();
      },
    );
  }

  private judgeEnd(w: WatchedAttempt, seen: { exitCode: number | null; signal: string | null; vanished: boolean }, read?: { agent: AgentSummary }): void {
    const judged = judgeAttempt(
      this.store,
      {
        project: w.project,
        task: w.task,
        attempt: w.attempt,
        logPath: w.logPath,
        seen: { ...seen, killedFor: w.killedFor, timeoutS: w.timeoutS, stallKillS: w.stall?.killS ?? this.opts.runtime.stallKillS, gpuError: w.log.gpuError },
        backoffS: this.opts.runtime.backoffS,
        rateLimitWaitS: this.opts.runtime.rateLimitWaitS,
        transient: { maxS: this.opts.runtime.transientMaxS, backoffMaxS: this.opts.runtime.transientBackoffMaxS },
      },
      read,
    );
    if (this.gitSync && judged.end.kind === "success" && !attemptReviewed(this.store, w.project, w.task, w.attempt)) {
      this.publishThenFinish(w, judged);
      return;
    }
    this.batch(
      () => finish(this.store, judged),
      (r: FinishResult) => this.endRecorded(w, r),
    );
  }

  /** Git sync: a success's edits are committed and pushed before it is recorded DONE; a push that cannot be made fails it. */
  private publishThenFinish(w: WatchedAttempt, judged: ReturnType<typeof judgeAttempt>): void {
    this.publishThen(w, (r) => {
      const end = endAfterPublish(judged.end, r);
      this.batch(
        () => {
          if (r?.ok && r.commit) this.event(w, "git_pushed", { commit: r.commit, files: r.files, tries: r.tries });
          return finish(this.store, { ...judged, end });
        },
        (x: FinishResult) => this.endRecorded(w, x),
      );
    });
  }

  /** Git sync: an approving review's task has its edits committed and pushed before it is recorded DONE. */
  private publishThenReviewEnd(w: WatchedAttempt, seen: { exitCode: number | null; signal: string | null; vanished: boolean }): void {
    this.publishThen(w, (r) => {
      if (r?.ok && r.commit) this.event(w, "git_pushed", { commit: r.commit, files: r.files, tries: r.tries });
      this.deferrable(() => this.recordReviewEnd(w, seen, r && !r.ok ? r.error : undefined));
    });
  }

  /**
   * Publishes the attempt's edits off the loop, then records its end with
   * `record`; the end counts as being judged meanwhile (run() waits for it).
   * A broken database met while reading what to publish stops supervision
   * with one line (the wrapper's exit file keeps the end for the next process).
   */
  private publishThen(w: WatchedAttempt, record: (r: PublishResult | null) => void): void {
    this.concluding++;
    void this.gitSync!.publish(w.order, w.task).then(
      (r) => {
        this.concluding--;
        if (this.stopped) return;
        this.guard(() => record(r));
        this.checkStop();
      },
      (err: unknown) => {
        this.concluding--;
        this.trouble(err);
        this.checkStop();
      },
    );
  }

  /** Records a review's end: run again while the database is busy, until it is written. */
  private recordReviewEnd(w: WatchedAttempt, seen: { exitCode: number | null; signal: string | null; vanished: boolean }, unpublished?: string): void {
    this.followLog(w, this.store.now());
    if (w.log.offset > w.log.maxBytes) capLog(w.logPath, w.log.maxBytes);
    const r = concludeReview(this.store, {
      project: w.project,
      task: w.task,
      attempt: w.attempt,
      pid: w.pid,
      logPath: w.logPath,
      exitCode: seen.exitCode,
      lost: seen.vanished || w.killedFor !== null,
      backoffS: this.opts.runtime.backoffS,
      unpublished,
    });
    this.endRecorded(w, r);
  }

  /** An attempt's (or review's) end is committed: now act on it. */
  private endRecorded(w: WatchedAttempt, r: ReturnType<typeof concludeReview> | FinishResult): void {
    // Tasks skipped in the same transaction: this view does not see its own commits as changes.
    if (r.ok) for (const id of r.skipped ?? []) this.view.markFinished(id, "SKIPPED", null);
    if (r.ok) this.recorded(w.order, w.task, w.attempt, w.pid, r.status, r.retryAt);
    else if (isRerun(r)) this.reviewAgainAt(w.order, w.task, w.attempt, r.retryAt);
    else this.view.reload();
    this.opts.onChange?.();
    this.schedulePass();
  }

  /** An attempt's (or review's) end was recorded: update the view, start a review, settle the order. */
  private recorded(order: string, task: string, attempt: number, pid: number, status: TaskStatus, retryAt: number | null): void {
    // A DONE task's checkpoints have served (src/runtime/task-state.ts).
    if (status === "DONE") {
      const removal = removeTaskStateSoon(this.store.dir, this.project, task);
      this.removals.add(removal);
      void removal.then(() => this.removals.delete(removal));
    }
    this.view.markFinished(task, status, retryAt);
    this.opts.onTask?.({ task, order, status, attempt, pid });
    if (retryAt !== null) this.nextRetryAt = Math.min(this.nextRetryAt ?? Infinity, retryAt);
    if (status === "REVIEW") {
      this.beginReview(order, task, attempt);
      return;
    }
    // Tasks may have been added to the order by another process since our last look.
    this.view.refreshIfChanged();
    settleOrders(this.store, this.view, [order]);
  }

  /**
   * Starts the review again at its retry time. This process owns it meanwhile
   * (a follower too: no leader adopts a review whose owner lives).
   */
  private reviewAgainAt(order: string, task: string, attempt: number, at: number | null): void {
    const delay = at === null ? 0 : at - this.store.now();
    if (delay <= 0) {
      this.beginReview(order, task, attempt);
      return;
    }
    const t = setTimeout(() => {
      this.reviewTimers.delete(t);
      this.guard(() => this.beginReview(order, task, attempt));
    }, delay);
    this.reviewTimers.add(t);
  }

  /** Starts the review of a REVIEW task's attempt and watches it. */
  private beginReview(order: string, task: string, attempt: number): void {
    if (this.stopped) return;
    const model = this.view.orders.find((o) => o.id === order)?.options.model ?? null;
    const r = spawnReview(this.store, { project: this.project, task, attempt, model, env: this.opts.env });
    if (!r.ok) {
      if (r.result?.ok) this.recorded(order, task, attempt, 0, r.result.status, null);
      else this.view.reload();
      return;
    }
    const base = { project: this.project, order, task, attempt, logPath: r.logPath, startedAt: this.store.now(), timeoutS: null };
    const w = this.attempt(base, r.worker.pid, r.worker.procStart, r.worker.child !== null, "review");
    this.watched.set(task, w);
    if (r.worker.child) this.followChild(r.worker.child, w);
  }

  // ------------------------------------------------------------ launching

  schedulePass(): void {
    if (this.passQueued || this.stopped || !this.leader) return;
    this.passQueued = true;
    setImmediate(() => {
      this.passQueued = false;
      // Stopped meanwhile: the caller may have closed the store already.
      if (!this.stopped) this.pass().catch((err: unknown) => this.trouble(err));
    });
  }

  private currentSample(): Promise<ResourceSample> | null {
    const monitor = this.opts.monitor;
    if (!monitor) return null;
    const now = Date.now();
    if (!this.sample || now - this.sample.at > SAMPLE_MAX_AGE_MS) this.sample = { at: now, value: monitor.sample() };
    return this.sample.value;
  }

  private async pass(): Promise<void> {
    if (this.passRunning) {
      this.schedulePass();
      return;
    }
    this.passRunning = true;
    try {
      this.view.refreshIfChanged();
      let launched = 0;
      for (const order of this.view.orders) {
        if (order.paused) continue;
        const o = order.options;
        const pending = o.monitoring ? this.currentSample() : null;
        const sample = pending ? await pending.catch(() => null) : null;
        if (this.stopped) return;
        const scaling = scaleFor(o, sample);
        const now = this.store.now();
        const d = detect({
          tasks: this.view.tasks,
          orderId: order.id,
          paused: false,
          locks: this.view.locks,
          // The slots are per host: this host's attempts in flight (one read per pass).
          freeSlots: scaling.effectiveWorkers - runningOnHost(this.store, this.project, this.host.name),
          now,
          candidates: this.view.candidatesOf(order.id),
          blocked: this.view.blocked,
          stopWhenFull: true,
          agentGate: this.view.hasAgents ? agentGate(this.store, this.project, order.id) : undefined,
          host: this.gitSync ? hostForProject(this.store, this.host, this.project) : this.host,
        });
        for (const s of d.skipped) {
          if (s.reason === "backoff" || s.reason === "rate_limit") {
            const at = Date.parse(s.retry_at);
            this.nextRetryAt = Math.min(this.nextRetryAt ?? Infinity, at);
          }
        }
        if (o.preempt || order.preempt) this.preemptFor(d.skipped);
        if (d.launchable.length > 0 && this.gitSync && !(await this.branchReady(order.id))) continue;
        if (this.stopped) return;
        // No process starts before its claim is committed. Plain commands that name no files are
        // claimed together, one transaction for a run of them; a task whose preparation runs git (the
        // scope check of an agent or of a command that names its files) or writes an agent's files is
        // claimed in a transaction of its own, so the write lock is never held while git runs. The
        // detector's order (priority first) is kept.
        const claimed: PreparedLaunch[] = [];
        let refused = false;
        const claimOne = (t: (typeof d.launchable)[number]): void => {
          this.preemption.last.delete(t.id);
          this.preemption.inFlight.delete(t.id);
          const r = prepareLaunch(this.store, {
            project: this.project,
            task: t.id,
            effectiveWorkers: scaling.effectiveWorkers,
            model: o.model,
            review: o.review,
            env: this.opts.env,
          });
          if (r.ok) claimed.push(r.prepared);
          else refused = true;
        };
        const claimRun = (run: typeof d.launchable): void => {
          if (run.length > 1) writeBatch(this.store, () => run.forEach(claimOne));
          else run.forEach(claimOne);
        };
        try {
          let run: typeof d.launchable = [];
          for (const t of d.launchable) {
            if (!t.agent && t.targetFiles.length === 0) {
              run.push(t);
              continue;
            }
            claimRun(run);
            run = [];
            claimOne(t);
          }
          claimRun(run);
        } catch (err) {
          this.view.reload();
          throw err;
        }
        // Someone else changed the project (or a process could not start): re-read it, our claims with it.
        if (refused) this.view.reload();
        else for (const p of claimed) this.view.markClaimed(p.task, p.targetFiles, now);
        for (const p of claimed) {
          launched++;
          this.start(p);
        }
      }
      this.prepareNext();
      this.lastPassLaunched = launched;
      if (launched > 0) this.opts.onChange?.();
    } finally {
      this.passRunning = false;
    }
    this.checkStop();
  }

  /**
   * Git sync: the order's branch fetched and checked out at the remote's tip
   * before its tasks (found launchable before this began) launch. Not ready:
   * they wait, and the pass runs again in a second (a reason that changed is
   * recorded as a `git_sync_waiting` event).
   */
  private async branchReady(order: string): Promise<boolean> {
    const r = await this.gitSync!.beforeLaunch(order);
    if (r === null || r.ok) {
      this.branchWaits.delete(order);
      return true;
    }
    const reason = "wait" in r ? r.wait : r.error;
    if (!this.stopped && this.branchWaits.get(order) !== reason) {
      this.branchWaits.set(order, reason);
      appendEvent(this.store, { kind: "git_sync_waiting", projectId: this.project, orderId: order, data: { reason } }, this.store.now());
    }
    this.nextRetryAt = Math.min(this.nextRetryAt ?? Infinity, this.store.now() + BRANCH_RETRY_MS);
    return false;
  }

  /** Starts a claimed attempt's process: through the spawner when it runs (and has booted), else in place. */
  private start(p: PreparedLaunch): void {
    this.ensureSpawner();
    const spawner = this.spawner;
    if (!spawner?.ready) {
      let worker: SpawnedWorker;
      try {
        worker = spawnPrepared(p.spawn, this.opts.env);
      } catch (err) {
        this.deferrable(() => this.launchFailed(p, err));
        return;
      }
      this.watchLaunched(launchedFrom(p, worker));
      this.batch(() => completeLaunch(this.store, p, worker));
      return;
    }
    const w = this.attempt(p, 0, null, true);
    this.starting++;
    spawner
      .spawn(
        p.spawn,
        (code, signal) => this.guard(() => this.ended(w, { exitCode: code, signal, vanished: false })),
        () => (w.events = false),
      )
      .then(
        (worker) => {
          this.starting--;
          w.pid = worker.pid;
          w.procStart = worker.procStart;
          this.batch(() => completeLaunch(this.store, p, worker));
          if (!w.ended) this.watched.set(p.task, w);
          this.opts.onTask?.({ task: p.task, order: p.order, status: "IN_PROGRESS", attempt: p.attempt, pid: w.pid });
          this.opts.onChange?.();
        },
        (err: Error) => {
          this.starting--;
          this.guard(() => this.deferrable(() => this.launchFailed(p, err)));
        },
      );
  }

  private ensureSpawner(): void {
    if (this.spawner || this.spawnerFailed || this.stopped) return;
    const spawner = new SpawnerClient(this.opts.env);
    if (spawner.start()) this.spawner = spawner;
    else this.spawnerFailed = true;
  }

  /** The process could not start: FAILED (start_failed) or QUEUED after a backoff; never claimed again at once. */
  private launchFailed(p: PreparedLaunch, err: unknown): void {
    const { failed } = failLaunch(this.store, p, err);
    if (failed.ok) this.recorded(p.order, p.task, p.attempt, 0, failed.status, failed.retryAt);
    else this.view.reload();
    this.schedulePass();
  }

  /** Makes the log folders of the next candidates in the background, so that a launch does not wait on mkdir. */
  private prepareNext(): void {
    for (const order of this.view.orders) {
      const next: string[] = [];
      for (const t of this.view.candidatesOf(order.id)) {
        if (t.status !== "QUEUED") continue;
        next.push(t.id);
        if (next.length >= 4 * order.options.maxWorkers) break;
      }
      prepareLogDirs(this.store.dir, this.project, next);
    }
  }

  // ------------------------------------------------------------ stopping

  private idle(): boolean {
    if (!this.leader) return false;
    if (this.starting > 0 || this.deferred.length > 0 || this.batched.length > 0 || this.concluding > 0) return false;
    if (this.watched.size > 0 || this.passQueued || this.passRunning || this.lastPassLaunched > 0) return false;
    if (this.nextRetryAt !== null || this.reviewTimers.size > 0) return false;
    return this.view.running() === 0;
  }

  private checkStop(): void {
    if (this.stopped) return;
    if (this.opts.until) {
      if (!this.opts.until()) return;
      // An end being judged is recorded first (checkStop runs again once it is).
      if (this.concluding > 0) return;
      if (this.idle()) settleOrders(this.store, this.view, this.view.orders.map((o) => o.id), true);
      this.stop();
      return;
    }
    if (!this.idle()) return;
    if (this.view.refreshIfChanged()) {
      // Something changed meanwhile (a task added, an order resumed): look again.
      this.adoptOrphans();
      this.schedulePass();
      return;
    }
    settleOrders(this.store, this.view, this.view.orders.map((o) => o.id), true);
    releaseLease(this.store, this.project, this.host.name);
    this.leader = false;
    // A process that added work just before the release saw the lease held and started no
    // supervisor: if anything was written since our last look, take the lease back and go on.
    if (this.view.refreshIfChanged() && acquireLease(this.store, this.project, this.host.name)) {
      this.leader = true;
      this.adoptOrphans();
      this.schedulePass();
      return;
    }
    this.stop();
  }

  /** Stops supervising (the workers go on) and releases the lease. */
  stop(): void {
    if (this.stopped) return;
    // Ends and pids of this turn are written before the caller may close the store.
    if (!this.failure) {
      try {
        this.flushBatch();
      } catch {
        // Busy or broken: the wrappers' exit files keep the ends for the next process.
      }
    }
    try {
      this.notifier?.pump();
    } catch {
      // Notifications wait for the next process.
    }
    this.stopped = true;
    this.machine?.close();
    this.machine = null;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watched.values()) if (w.killTimer) clearTimeout(w.killTimer);
    for (const t of this.reviewTimers) clearTimeout(t);
    this.spawner?.close();
    this.spawner = null;
    this.offThread.close();
    // Workers outlive us: do not keep this process alive for them.
    for (const c of this.children) c.unref();
    if (this.leader) {
      try {
        releaseLease(this.store, this.project, this.host.name);
      } catch {
        // Busy or broken: the next process takes a dead holder's lease anyway.
      }
    }
    this.leader = false;
    this.loopStats?.();
    if (this.failure) this.failRun?.(this.failure);
    else if (this.removals.size > 0) void Promise.allSettled(this.removals).then(() => this.finishRun?.());
    else this.finishRun?.();
  }
}
