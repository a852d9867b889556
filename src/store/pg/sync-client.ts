/**
 * A synchronous PostgreSQL client, so the store keeps its synchronous API
 * (better-sqlite3's contract: a call returns its rows; the thread blocks on
 * I/O meanwhile) on PostgreSQL too.
 *
 * node-postgres runs in a worker thread (./sync-worker.ts); a call posts its
 * request and blocks on `Atomics.wait` until the worker has replied (the way
 * synckit does it). LISTEN/NOTIFY arrives on the worker's second connection
 * and is delivered here as an ordinary event: a supervisor idling in its
 * event loop wakes on it. The worker thread is unref'd: an open client does
 * not keep a process alive, and `close()` ends it.
 *
 * Prototype for issue 16 (stage 2): measured and chosen in docs/hosts.md.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { packageRoot } from "../../util/package-root.js";
import type { ArrayResult, Notification, Param, Reply, Request, Result, Statement, WorkerInit } from "./protocol.js";

export type { Param, Result, Statement } from "./protocol.js";

/** A PostgreSQL error (or the worker's), with its SQLSTATE `code` when the server gave one. */
export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PgError";
  }
}

export interface SyncPgOptions {
  /** Longest a single call may block (default 60 s): past it the call throws and the client is closed. */
  timeoutMs?: number;
}

type Omit2<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * The worker's entry: a small CommonJS bootstrap that imports the worker module (through tsx's
 * loader when this runs as .ts, under vitest or tsx: a worker does not inherit the parent's
 * loader hooks and ignores `--import` in execArgv). A worker that cannot load tells the blocked
 * caller at once (signal -1) instead of letting it wait out its timeout.
 */
function workerBootstrap(): string {
  const here = fileURLToPath(import.meta.url);
  let file: string;
  let tsx = "";
  if (here.endsWith(".ts")) {
    file = here.replace(/sync-client\.ts$/, "sync-worker.ts");
    tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  } else {
    const beside = here.replace(/sync-client\.js$/, "sync-worker.js");
    file = beside !== here && existsSync(beside) ? beside : join(packageRoot(), "dist", "src", "store", "pg", "sync-worker.js");
  }
  const load = `import(${JSON.stringify(pathToFileURL(file).href)})`;
  const start = tsx ? `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return ${load}; })` : load;
  return `${start}.catch((e) => {
    const { workerData } = require("node:worker_threads");
    workerData.reply.postMessage({ id: -1, ok: false, message: "the PostgreSQL worker did not load: " + (e && e.message || e) });
    const signal = new Int32Array(workerData.signal);
    Atomics.store(signal, 0, -1);
    Atomics.notify(signal, 0);
  });`;
}

export class SyncPgClient {
  private readonly worker: Worker;
  private readonly signal: Int32Array;
  private readonly replies: MessagePort;
  private readonly timeoutMs: number;
  private readonly listeners = new Map<string, Set<(payload: string, own: boolean) => void>>();
  private nextId = 1;
  private closed = false;

  constructor(url: string, opts: SyncPgOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    const shared = new SharedArrayBuffer(4);
    this.signal = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    const init: WorkerInit = { url, signal: shared, reply: port2 };
    this.worker = new Worker(workerBootstrap(), { eval: true, workerData: init, transferList: [port2] });
    this.worker.on("message", (msg: Notification) => {
      if (msg.kind !== "notify") return;
      for (const fn of this.listeners.get(msg.channel) ?? []) fn(msg.payload, msg.own);
    });
    this.worker.on("error", () => {
      /* surfaced to the blocked caller as a timeout; nothing to do on the event loop */
    });
    this.worker.unref();
    this.replies.unref();
  }

  /** One statement, `$1`-style parameters; its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: Param[]): T[] {
    return this.call({ op: "query", sql, params })[0]?.rows as T[];
  }

  /** One statement; its rows and the count of rows it touched. */
  exec(sql: string, params?: Param[]): Result {
    return this.call({ op: "query", sql, params })[0] as Result;
  }

  /** One statement; its rows as arrays of values, with the column names. */
  rows(sql: string, params?: Param[]): ArrayResult {
    return this.call({ op: "rows", sql, params })[0] as unknown as ArrayResult;
  }

  /** Statements without parameters, `;`-separated, in one round trip (not a transaction of its own). */
  script(sql: string): Result {
    return this.call({ op: "script", sql })[0] as Result;
  }

  /** Several statements in one transaction and one round trip (BEGIN ... COMMIT; all or nothing). */
  batch(statements: Statement[]): Result[] {
    return this.call({ op: "batch", statements });
  }

  /**
   * Call `fn` on every NOTIFY on `channel` (asynchronously, from the event loop); `own` when this
   * client's main connection sent it. Returns the unsubscribe. `keepAlive: false`: the listener
   * does not keep the process alive.
   */
  listen(channel: string, fn: (payload: string, own: boolean) => void, opts: { keepAlive?: boolean } = {}): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.call({ op: "listen", channel });
      if (opts.keepAlive !== false) this.worker.ref(); // a listener keeps the process alive until it is removed
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size > 0 || this.closed) return;
      this.listeners.delete(channel);
      this.call({ op: "unlisten", channel });
      if (this.listeners.size === 0) this.worker.unref();
    };
  }

  /**
   * How many notifications on `channel` (LISTENed to through `listen`) other connections have
   * sent, and one more each time the LISTEN connection was lost and made again. Exact when it
   * returns: the worker reads the LISTEN connection up to now first.
   */
  changes(channel: string): number {
    return Number(this.call({ op: "changes", channel })[0]?.rows[0]?.n ?? 0);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: "close" }, 5_000);
    } catch {
      /* terminated below anyway */
    }
    this.closed = true;
    this.listeners.clear();
    this.replies.close();
    void this.worker.terminate();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private call(req: Omit2<Request, "id">, timeoutMs = this.timeoutMs): Result[] {
    if (this.closed) throw new PgError("the PostgreSQL client is closed", undefined);
    const id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    Atomics.store(this.signal, 0, 0);
    this.worker.postMessage({ ...req, id } as Request);
    const end = Date.now() + timeoutMs;
    while (Atomics.load(this.signal, 0) !== id && Atomics.load(this.signal, 0) !== -1) {
      const left = end - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === "timed-out") {
        if (Atomics.load(this.signal, 0) === id) break;
        this.closed = true;
        void this.worker.terminate();
        throw new PgError(`PostgreSQL did not answer within ${timeoutMs} ms`, undefined);
      }
    }
    const got = receiveMessageOnPort(this.replies)?.message as Reply | undefined;
    if (got?.id === -1) {
      this.closed = true;
      void this.worker.terminate();
    }
    if (!got || (got.id !== id && got.id !== -1)) throw new PgError("internal: a PostgreSQL reply out of order", undefined);
    if (!got.ok) throw new PgError(got.message, got.code);
    return got.results as Result[];
  }
}
