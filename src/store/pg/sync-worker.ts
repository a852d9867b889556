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
const client = new pg.Client({ connectionString: init.url, application_name: "aipm", connectionTimeoutMillis: 10_000 });
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

async function listenConnection(): Promise<pg.Client> {
  if (listener) return listener;
  const l = new pg.Client({ connectionString: init.url, application_name: "aipm-listen", connectionTimeoutMillis: 10_000 });
  await l.connect();
  l.on("error", () => {
    // A lost LISTEN connection: the next listen() opens another; callers re-read on a timer meanwhile.
    if (listener === l) listener = null;
  });
  l.on("notification", (n) => {
    // own: sent by this client's main connection (a listener may skip its own commits, as SQLite's data_version does).
    const own = n.processId === (client as unknown as { processID: number }).processID;
    const note: Notification = { kind: "notify", channel: n.channel, payload: n.payload ?? "", own };
    parentPort?.postMessage(note);
  });
  listener = l;
  return l;
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
      await (await listenConnection()).query(`LISTEN ${ident(req.channel)}`);
      return [];
    case "unlisten":
      if (listener) await listener.query(`UNLISTEN ${ident(req.channel)}`);
      return [];
    case "close":
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
