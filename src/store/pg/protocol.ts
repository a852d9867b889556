/**
 * The messages between the synchronous PostgreSQL client (./sync-client.ts,
 * on the caller's thread) and its worker (./sync-worker.ts).
 *
 * A request goes to the worker as an ordinary message; the caller then blocks
 * in `Atomics.wait` on `signal[0]` until the worker has posted the reply on
 * the reply port and set `signal[0]` to the request's id. The caller takes the
 * reply with `receiveMessageOnPort` (its event loop is blocked, so the reply
 * cannot arrive as an event). Notifications (LISTEN) arrive as events on the
 * worker's own channel: they wake an idle caller, they never interrupt one.
 */
import type { MessagePort } from "node:worker_threads";

export type Param = string | number | boolean | null | bigint;

export interface Statement {
  sql: string;
  params?: Param[] | undefined;
}

export type Request =
  /** One statement. */
  | { id: number; op: "query"; sql: string; params?: Param[] | undefined }
  /** One statement, its rows as arrays with the column names beside (the store's facade, ./pg-conn.ts). */
  | { id: number; op: "rows"; sql: string; params?: Param[] | undefined }
  /** Statements without parameters, `;`-separated, in one round trip (BEGIN and a lock, COMMIT). */
  | { id: number; op: "script"; sql: string }
  /** Several statements in one round trip, in one transaction (BEGIN ... COMMIT, ROLLBACK on the first error). */
  | { id: number; op: "batch"; statements: Statement[] }
  | { id: number; op: "listen"; channel: string }
  /** How many notifications on `channel` other connections sent since it was first LISTENed to (a flush first: exact when it returns). */
  | { id: number; op: "changes"; channel: string }
  | { id: number; op: "unlisten"; channel: string }
  | { id: number; op: "close" };

export interface Result {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
}

/** The reply to `rows`: values in the columns' order. */
export interface ArrayResult {
  fields: string[];
  rows: unknown[][];
  rowCount: number;
}

export type Reply =
  | { id: number; ok: true; results: Result[] | ArrayResult[] }
  | { id: number; ok: false; message: string; code?: string | undefined };

export interface WorkerInit {
  url: string;
  signal: SharedArrayBuffer;
  reply: MessagePort;
}

export interface Notification {
  kind: "notify";
  channel: string;
  payload: string;
  /** Sent by the caller's own (main) connection. */
  own: boolean;
}
