/**
 * The worker thread behind ./sync-client.ts: it owns the PostgreSQL
 * connections (node-postgres, asynchronous) and answers the caller's
 * requests one at a time (the caller is blocked while one is out, so they
 * never overlap). A second connection, opened on the first LISTEN, carries
 * notifications to the caller as events.
 */
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";
import type { ArrayResult, Notification, Reply, Request, Result, WorkerInit } from "./protocol.js";

// int8 (COUNT(*), BIGINT epoch milliseconds) as a JS number, as better-sqlite3 gives them; and
// numeric as a number. Both stay exact below 2^53 (epoch ms until the year 287396).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const init = workerData as WorkerInit;
const signal = new Int32Array(init.signal);
/**
 * The session's limits, so that no host can stop the others for long: a transaction left idle
 * (its host frozen, or cut off without a reset) is ended by the server after 30 s, releasing the
 * write lock; a lock wait gives up after 20 s with 55P03 (taken as "busy": retried), before the
 * client's own 60 s timeout; TCP keepalive notices a dead peer.
 */
const SESSION = "-c idle_in_transaction_session_timeout=30000 -c lock_timeout=20000";
const client = new pg.Client({ connectionString: init.url, application_name: "aipm", connectionTimeoutMillis: 10_000, keepAlive: true, options: SESSION });
const connected = client.connect();
connected.catch(() => undefined); // reported to each request, which awaits it
/** The connection broke after it was made: every later request fails with this (the caller opens a new client). */
let broken: Error | null = null;
client.on("error", (err) => {
  broken = err;
});
let listener: pg.Client | null = null;

function reply(msg: Reply): void {
  init.reply.postMessage(msg);
  Atomics.store(signal, 0, msg.id);
  Atomics.notify(signal, 0);
}

function toResult(r: pg.QueryResult | pg.QueryResult[]): Result {
  const last = Array.isArray(r) ? r[r.length - 1]! : r;
  return { rows: last.rows as Array<Record<string, unknown>>, rowCount: last.rowCount ?? 0 };
}

function toArrays(r: pg.QueryArrayResult): ArrayResult {
  return { fields: r.fields.map((f) => f.name), rows: r.rows, rowCount: r.rowCount ?? 0 };
}

/** The channels LISTENed to: listened to again on a new connection after the old one was lost. */
const channels = new Set<string>();
/** Per channel, the notifications other connections sent (and one more per lost connection). */
const counts = new Map<string, number>();

function count(channel: string): void {
  counts.set(channel, (counts.get(channel) ?? 0) + 1);
}
let reconnecting: ReturnType<typeof setTimeout> | null = null;

async function listenConnection(): Promise<pg.Client> {
  if (listener) return listener;
  const l = new pg.Client({ connectionString: init.url, application_name: "aipm-listen", connectionTimeoutMillis: 10_000, keepAlive: true });
  await l.connect();
  const lost = () => {
    if (listener !== l) return;
    listener = null;
    l.end().catch(() => undefined);
    relisten(250);
  };
  l.on("error", lost);
  l.on("end", lost);
  l.on("notification", (n) => {
    // own: sent by this client's main connection (a listener may skip its own commits, as SQLite's data_version does).
    const own = n.processId === (client as unknown as { processID: number }).processID;
    if (!own) count(n.channel);
    const note: Notification = { kind: "notify", channel: n.channel, payload: n.payload ?? "", own };
    parentPort?.postMessage(note);
  });
  listener = l;
  return l;
}

/**
 * The LISTEN connection was lost: notifications sent meanwhile are gone. Open another, LISTEN
 * again, and tell every listener once (a notification with no payload, not its own), so that a
 * reader of the count re-reads what it may have missed. Tried again, backing off to 5 s.
 */
function relisten(delayMs: number): void {
  if (reconnecting || channels.size === 0) return;
  reconnecting = setTimeout(async () => {
    reconnecting = null;
    try {
      const l = await listenConnection();
      for (const c of channels) await l.query(`LISTEN ${ident(c)}`);
      for (const c of channels) {
        count(c);
        parentPort?.postMessage({ kind: "notify", channel: c, payload: "", own: false } satisfies Notification);
      }
    } catch {
      if (listener) listener.end().catch(() => undefined);
      listener = null;
      relisten(Math.min(delayMs * 2, 5_000));
    }
  }, delayMs);
  reconnecting.unref?.();
}

/**
 * Statements with parameters run as named prepared statements of this connection: the server
 * parses and plans each text once, and a later call sends only Bind/Execute (the same one round
 * trip). The store's statements are fixed texts, a few hundred; past PREPARED_MAX distinct texts
 * (SQL built per call) the rest run unnamed, as before.
 */
const PREPARED_MAX = 1000;
const prepared = new Map<string, string>();

function statement(sql: string, params: unknown[] | undefined): pg.QueryConfig {
  if (!params || params.length === 0) return { text: sql };
  let name = prepared.get(sql);
  if (name === undefined && prepared.size < PREPARED_MAX) {
    name = `aipm_${prepared.size + 1}`;
    prepared.set(sql, name);
  }
  return name === undefined ? { text: sql, values: params } : { name, text: sql, values: params };
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function handle(req: Request): Promise<Result[] | ArrayResult[]> {
  await connected;
  if (broken) throw broken;
  switch (req.op) {
    case "query":
      return [toResult(await client.query(statement(req.sql, req.params)))];
    case "rows":
      return [toArrays(await client.query({ ...statement(req.sql, req.params), rowMode: "array" }))] as unknown as Result[];
    case "script":
      return [toResult(await client.query(req.sql))];
    case "batch": {
      const out: Result[] = [];
      await client.query("BEGIN");
      try {
        for (const s of req.statements) out.push(toResult(await client.query(s.sql, s.params)));
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
      return out;
    }
    case "listen":
      channels.add(req.channel);
      await (await listenConnection()).query(`LISTEN ${ident(req.channel)}`);
      return [];
    case "changes": {
      // A round trip on the LISTEN connection first: every notification that reached the server's
      // queue for it before this one has been read (and counted) when the answer comes.
      if (listener) await listener.query("SELECT 1").catch(() => undefined);
      return [{ rows: [{ n: counts.get(req.channel) ?? 0 }], rowCount: 1 }];
    }
    case "unlisten":
      channels.delete(req.channel);
      if (listener) await listener.query(`UNLISTEN ${ident(req.channel)}`);
      return [];
    case "close":
      channels.clear();
      if (reconnecting) clearTimeout(reconnecting);
      await Promise.allSettled([client.end(), listener?.end()]);
      return [];
  }
}

// Requests are answered strictly in order: the caller sends the next only after the reply.
let queue: Promise<void> = Promise.resolve();
parentPort?.on("message", (req: Request) => {
  queue = queue.then(async () => {
    try {
      reply({ id: req.id, ok: true, results: await handle(req) });
    } catch (err) {
      const e = err as { message?: string; code?: string };
      reply({ id: req.id, ok: false, message: e.message ?? String(err), code: e.code });
    }
    if (req.op === "close") parentPort?.close();
  });
});
