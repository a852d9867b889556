/**
 * The supervisor's side of the spawner (worker/spawner.ts): starts the helper
 * process, sends it prepared spawns, and routes back pids and exits. If the
 * helper dies, pending spawns fail (their claims are rolled back by the
 * caller) and the workers it had started are reported lost: the supervisor
 * then watches them as adopted workers (their pids, then their exit files).
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/package-root.js";
import type { PreparedSpawn, SpawnedWorker } from "./spawn-worker.js";

type ExitHandler = (code: number | null, signal: string | null) => void;

interface Pending {
  resolve: (w: SpawnedWorker) => void;
  reject: (e: Error) => void;
  onExit: ExitHandler;
  onLost: () => void;
}

type Message =
  | { t: "ready" }
  | { t: "spawned"; id: number; pid: number; procStart: string | null }
  | { t: "error"; id: number; error: string; code?: string }
  | { t: "exit"; id: number; code: number | null; signal: string | null };

export function spawnerScript(): string {
  return join(packageRoot(), "dist", "worker", "spawner.js");
}

export class SpawnerClient {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, Pending>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Starts the helper; false when it is not available (then spawn in place). */
  start(): boolean {
    const script = spawnerScript();
    if (!existsSync(script)) return false;
    const child = fork(script, [], { env: this.env, stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: [] });
    child.on("message", (m: Message) => this.onMessage(m));
    child.on("exit", () => this.onDeath());
    child.on("error", () => this.onDeath());
    this.child = child;
    return true;
  }

  get alive(): boolean {
    return this.child !== null;
  }

  /**
   * The helper has booted (its first message). Node takes ~50-150 ms to start it: a spawn sent
   * before waits that long in the channel, so until then the supervisor starts workers itself.
   */
  get ready(): boolean {
    return this.child !== null && this.booted;
  }

  private booted = false;

  spawn(p: PreparedSpawn, onExit: ExitHandler, onLost: () => void): Promise<SpawnedWorker> {
    return new Promise((resolve, reject) => {
      if (!this.child) return reject(new Error("spawner is not running"));
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, onExit, onLost });
      this.child.send({ t: "spawn", id, args: p.args, cwd: p.cwd, env: p.vars, unset: p.unset ?? [] });
    });
  }

  private onMessage(m: Message): void {
    if (m.t === "ready") {
      this.booted = true;
    } else if (m.t === "spawned") {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.running.set(m.id, p);
      p.resolve({ child: null, pid: m.pid, procStart: m.procStart });
    } else if (m.t === "error") {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.reject(Object.assign(new Error(m.error), { code: m.code }));
    } else if (m.t === "exit") {
      const p = this.running.get(m.id);
      this.running.delete(m.id);
      p?.onExit(m.code, m.signal);
    }
  }

  private onDeath(): void {
    if (!this.child) return;
    this.child = null;
    for (const p of this.pending.values()) p.reject(new Error("the spawner process died"));
    this.pending.clear();
    for (const p of this.running.values()) p.onLost();
    this.running.clear();
  }

  /** Lets the helper go: it exits when the channel closes; the workers go on. */
  close(): void {
    const c = this.child;
    this.child = null;
    if (c?.connected) c.disconnect();
    this.pending.clear();
    this.running.clear();
  }
}
