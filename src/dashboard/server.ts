/**
 * `aipm dashboard`: an HTTP server on the database the CLI uses.
 *
 *   GET  /                              the first order's page (or an empty one)
 *   GET  /orders/PROJECT/ORDER          an order's page, data included; `?view=tasks|graph|timeline`,
 *                                       `?fragment=order|tasks|sidebar|machine`, `?fragment=rows&offset=N` (the
 *                                       next page of task rows), `?fragment=task&task=T` (the task panel); the task
 *                                       list takes `q=TEXT` (filter), `done=hide` (collapse DONE), `limit=N` rows
 *   GET  /api/overview                  every project and order with counts
 *   GET  /api/orders/PROJECT/ORDER      one order in full (tasks, workers, locks, failures, KPIs)
 *   GET  /api/machine                   CPU, memory, GPU, effective workers over the last hour
 *   GET  /api/orders/PROJECT/ORDER/attempts  every attempt (the timeline)
 *   GET  /api/tasks/PROJECT/TASK        the task's explain chain and its attempts
 *   GET  /api/tasks/PROJECT/TASK/log    the end of the task's latest log
 *   GET  /api/events?project=P&order=O  server-sent events: `hello` (on each connection: refetch), `delta` (the
 *                                       order's changed rows and parts), `sidebar` (the order list, when it
 *                                       changed), `machine` (a sample, appended by the page), `ping` (every 15 s)
 *   POST /api/tasks/PROJECT/TASK/{kill,requeue,retry}
 *   POST /api/orders/PROJECT/ORDER/{pause,resume}
 *   POST /api/orders/PROJECT/ORDER/scale    `{"workers": N}`
 *
 * Security: it binds to 127.0.0.1 unless told otherwise, and refuses any
 * other address without AIPM_DASHBOARD_TOKEN. With a token, every request
 * needs it (`Authorization: Bearer`, `?token=` — which also sets a cookie —
 * or that cookie; `GET /login/CODE` with a one-time code from `login()` sets
 * the cookie too, once, within 10 minutes: the link to send to a phone, which
 * never shows the token). The cookie is `SameSite=Lax`, so a link opened from
 * a chat or a notification works. A state-changing request needs the token as a Bearer
 * header, or a same-origin request carrying the page's CSRF token. On
 * loopback, the Host header must be a loopback name (no DNS rebinding).
 *
 * Live: the server looks at SQLite's `data_version` every 250 ms (cheap, no
 * query); when another process changed the store it works out, at most every
 * 500 ms, what changed for each order a page watches (./live-order.ts) and
 * sends only that. Responses and the event stream are compressed
 * (./compress.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/open.js";
import { AipmError, usageError } from "../errors.js";
import { getOrder } from "../store/read-project.js";
import { storeIsOpen } from "../store/dashboard-reads.js";
import { dataVersion } from "../store/data-version.js";
import { EventStream, pickEncoding, sendBody } from "./compress.js";
import { LiveOrder } from "./live-order.js";

const orderExists = (store: Store, project: string, order: string): void => void getOrder(store, project, order);
import { MachineHistory } from "./machine-history.js";
import { orderAttempts, orderView, overview, taskDetail, taskLogTail } from "./dashboard-data.js";
import {
  filterTasks,
  PAGE_ROWS,
  renderMachine,
  renderOrder,
  renderPage,
  renderRows,
  renderSidebar,
  renderTaskDetail,
  renderTasks,
  type OrderViewKind,
  type TaskFilter,
} from "./render-page.js";
import { killAction, pauseAction, retryAction, scaleAction } from "../runtime/task-actions.js";

export interface DashboardOptions {
  store: Store;
  host: string;
  port: number;
  env: NodeJS.ProcessEnv;
  /** Machine sampling interval (ms); default 5000. */
  sampleMs?: number;
}

export interface Dashboard {
  url: string;
  server: Server;
  csrf: string;
  /** A one-time login path (`/login/CODE`, valid once for LOGIN_TTL_MS); null without a token. */
  login(): string | null;
  close(): Promise<void>;
}

const LOGIN_TTL_MS = 10 * 60_000;

const WATCH_MS = 250;
/** At most this often, the orders the pages watch are read again to find what changed. */
const DELTA_MS = 500;
const HEARTBEAT_MS = 15_000;

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function same(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  sendBody(req, res, status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    "referrer-policy": "no-referrer",
    ...headers,
  }, body);
}

const json = (req: IncomingMessage, res: ServerResponse, status: number, doc: unknown) => send(req, res, status, "application/json; charset=utf-8", JSON.stringify(doc));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) reject(usageError("request body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function intParam(url: URL, name: string, fallback: number, min: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw usageError(`${name}: expected a whole number from ${min} up, got ${raw}`);
  return n;
}

/** The task list's filter from the query: `q`, `done=hide`, `limit`. */
function taskFilter(url: URL): TaskFilter {
  const done = url.searchParams.get("done");
  if (done !== null && done !== "hide" && done !== "show") throw usageError(`done: expected hide or show, got ${done}`);
  return { q: (url.searchParams.get("q") ?? "").slice(0, 200), hideDone: done === "hide", limit: Math.min(intParam(url, "limit", PAGE_ROWS, 1), 100_000) };
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const token = o.env.AIPM_DASHBOARD_TOKEN?.trim() || null;
  if (!isLoopback(o.host) && !token) {
    throw usageError(`refusing to listen on ${o.host} without AIPM_DASHBOARD_TOKEN: set it, or keep the default --host 127.0.0.1`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw usageError(`--port: expected a port number, got ${o.port}`);
  const { store } = o;
  const csrf = randomBytes(24).toString("base64url");
  const machine = new MachineHistory(store, o.sampleMs);
  /** The open event streams, each with the order its page shows ("" for none). */
  const clients = new Map<ServerResponse, { stream: EventStream; key: string }>();
  /** Per order watched by some page: what was sent last (rows, parts, the sidebar with that order as the current one). */
  const groups = new Map<string, { current: { project: string; order: string } | null; live: LiveOrder | null; sidebar: string; n: number }>();
  const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;
  const broadcast = (name: string, data = "{}") => {
    const text = event(name, data);
    for (const c of clients.values()) c.stream.send(text);
  };
  const toGroup = (key: string, text: string) => {
    for (const c of clients.values()) if (c.key === key) c.stream.send(text);
  };
  machine.onSample = (p) => broadcast("machine", JSON.stringify(p));
  let version = dataVersion(store);
  let dirty = false;
  let lastDelta = 0;
  /** Works out and sends what changed, for every watched order. */
  const sendChanges = () => {
    dirty = false;
    lastDelta = Date.now();
    version = dataVersion(store);
    const ov = overview(store);
    for (const [key, g] of groups) {
      const side = renderSidebar(ov, g.current);
      if (side !== g.sidebar) {
        g.sidebar = side;
        toGroup(key, event("sidebar", JSON.stringify({ html: side })));
      }
      if (!g.live) continue;
      try {
        const delta = g.live.diff(orderView(store, g.live.project, g.live.order));
        if (delta) toGroup(key, event("delta", JSON.stringify(delta)));
      } catch {
        // The order went away (cleanup): the page keeps what it shows until it reconnects.
      }
    }
  };
  const watcher = setInterval(() => {
    if (clients.size === 0 || !storeIsOpen(store)) return;
    if (dataVersion(store) !== version) dirty = true;
    if (dirty && Date.now() - lastDelta >= DELTA_MS) sendChanges();
  }, WATCH_MS);
  // A named event (not a comment): the page sees it, and reconnects when they stop coming (a phone that slept).
  const heartbeat = setInterval(() => broadcast("ping"), HEARTBEAT_MS);

  // Cookies are not kept apart by port: the name carries it, so that no other service on this host gets ours.
  let cookieName = "aipm_token";
  // Lax, not Strict: a link opened from another site (a chat, a notification) carries it on GET;
  // a POST from elsewhere does not, and every POST needs the page's CSRF token besides.
  const tokenCookie = () => `${cookieName}=${encodeURIComponent(token!)}; HttpOnly; SameSite=Lax; Path=/`;
  /** One-time login codes and when they expire. */
  const logins = new Map<string, number>();
  const useLogin = (code: string | undefined): boolean => {
    if (!code) return false;
    const until = logins.get(code);
    logins.delete(code);
    return until !== undefined && until > Date.now();
  };
  const authorised = (req: IncomingMessage, url: URL): { ok: boolean; setCookie?: string } => {
    if (!token) return { ok: true };
    const auth = req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (same(auth, token) || same(cookie(req, cookieName), token)) return { ok: true };
    const q = url.searchParams.get("token") ?? undefined;
    if (same(q, token)) return { ok: true, setCookie: tokenCookie() };
    const login = /^\/login\/([A-Za-z0-9_-]{20,})$/.exec(url.pathname)?.[1];
    if (req.method === "GET" && useLogin(login)) return { ok: true, setCookie: tokenCookie() };
    return { ok: false };
  };

  const mayChange = (req: IncomingMessage): boolean => {
    if (token && same(req.headers.authorization?.replace(/^Bearer\s+/i, ""), token)) return true;
    const origin = req.headers.origin;
    const host = req.headers.host;
    const sameOrigin = origin === undefined || (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`));
    return sameOrigin && same(req.headers["x-csrf-token"] as string | undefined, csrf);
  };

  const orderHtml = (current: { project: string; order: string }, view: OrderViewKind, filter: TaskFilter): string =>
    renderOrder(orderView(store, current.project, current.order), view, view === "timeline" ? orderAttempts(store, current.project, current.order) : [], filter);
  const page = (current: { project: string; order: string } | null, view: OrderViewKind, filter: TaskFilter): string =>
    renderPage({
      overview: overview(store),
      current,
      orderHtml: current ? orderHtml(current, view, filter) : `<h1>No order yet</h1><p class="muted">Import a plan: <code>aipm import plan.yaml</code></p>`,
      machineHtml: renderMachine(machine.json()),
      csrf,
      view,
    });

  const getOrderOr404 = (c: { project: string; order: string }) => orderExists(store, c.project, c.order);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (isLoopback(o.host) && !isLoopback((req.headers.host ?? "").replace(/:\d+$/, ""))) {
      return json(req, res, 403, { error: "this dashboard answers to loopback host names only" });
    }
    const auth = authorised(req, url);
    if (!auth.ok) return json(req, res, 401, { error: "AIPM_DASHBOARD_TOKEN required (Authorization: Bearer, or ?token=)" });
    const extra: Record<string, string> = auth.setCookie ? { "set-cookie": auth.setCookie } : {};
    if (auth.setCookie && req.method === "GET" && !url.pathname.startsWith("/api/")) {
      // The token (or the used login code) leaves the address bar and history: the cookie carries it from now on.
      url.searchParams.delete("token");
      const path = url.pathname.startsWith("/login/") ? "/" : url.pathname;
      res.writeHead(303, { location: `${path}${url.search}`, ...extra, "cache-control": "no-store" });
      res.end();
      return;
    }
    const parts = url.pathname.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
    const method = req.method ?? "GET";

    if (method === "POST") {
      if (!mayChange(req)) return json(req, res, 403, { error: "a control request needs the token, or a same-origin request with the page's CSRF token" });
      const raw = await readBody(req);
      const [api, kind, project, id, action] = parts;
      if (api !== "api" || !project || !id || !action) return json(req, res, 404, { error: "no such control" });
      let done: unknown = null;
      if (kind === "tasks" && (action === "kill" || action === "requeue")) {
        done = await killAction(store, { task: id, project, requeue: action === "requeue", env: o.env });
      } else if (kind === "tasks" && action === "retry") done = retryAction(store, { task: id, project, env: o.env });
      else if (kind === "orders" && (action === "pause" || action === "resume")) {
        done = pauseAction(store, { project, order: id, paused: action === "pause", env: o.env });
      } else if (kind === "orders" && action === "scale") {
        let body: { workers?: unknown };
        try {
          body = raw.trim() ? (JSON.parse(raw) as { workers?: unknown }) : {};
        } catch {
          throw usageError("scale: the body must be JSON, {\"workers\": N}");
        }
        done = scaleAction(store, { project, order: id, workers: Number(body?.workers), env: o.env });
      } else return json(req, res, 404, { error: "no such control" });
      // Our own writes do not move data_version for our connection: send what changed ourselves, at once.
      if (clients.size > 0) sendChanges();
      return json(req, res, 200, done);
    }
    if (method !== "GET" && method !== "HEAD") return json(req, res, 405, { error: "method not allowed" });

    if (parts[0] === "api") {
      if (parts[1] === "overview" && parts.length === 2) return json(req, res, 200, overview(store));
      if (parts[1] === "machine" && parts.length === 2) return json(req, res, 200, machine.json());
      if (parts[1] === "orders" && parts.length === 4) return json(req, res, 200, orderView(store, parts[2]!, parts[3]!));
      if (parts[1] === "orders" && parts.length === 5 && parts[4] === "attempts") {
        orderView(store, parts[2]!, parts[3]!); // 404 for an unknown order
        return json(req, res, 200, { attempts: orderAttempts(store, parts[2]!, parts[3]!) });
      }
      if (parts[1] === "tasks" && parts.length === 4) return json(req, res, 200, taskDetail(store, parts[2]!, parts[3]!));
      if (parts[1] === "tasks" && parts.length === 5 && parts[4] === "log") return json(req, res, 200, taskLogTail(store, parts[2]!, parts[3]!));
      if (parts[1] === "events" && parts.length === 2) {
        const project = url.searchParams.get("project");
        const orderId = url.searchParams.get("order");
        const current = project && orderId ? { project, order: orderId } : null;
        if (current) getOrderOr404(current);
        const key = current ? `${current.project}\0${current.order}` : "";
        let g = groups.get(key);
        if (!g) {
          // What the page is about to fetch is the baseline: changes from now on are sent as deltas.
          const live = current ? new LiveOrder(current.project, current.order) : null;
          if (current) live?.diff(orderView(store, current.project, current.order));
          g = { current, live, sidebar: renderSidebar(overview(store), current), n: 0 };
          groups.set(key, g);
        }
        g.n++;
        const enc = pickEncoding(req.headers["accept-encoding"], true);
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store, no-transform",
          connection: "keep-alive",
          vary: "accept-encoding",
          ...(enc ? { "content-encoding": enc } : {}),
          ...extra,
        });
        const stream = new EventStream(res, enc);
        // `hello` on every (re)connection: the page refetches what it shows (it may have missed changes), with the
        // CSRF token of this server (a restarted one has a new token) and its clock (for the running clocks).
        stream.send(`retry: 1000\n\n${event("hello", JSON.stringify({ csrf, now: Date.now() }))}`);
        clients.set(res, { stream, key });
        req.on("close", () => {
          stream.dispose();
          clients.delete(res);
          const left = groups.get(key);
          if (left && --left.n <= 0) groups.delete(key);
        });
        return;
      }
      return json(req, res, 404, { error: "no such API" });
    }
    let current: { project: string; order: string } | null = null;
    if (parts[0] === "orders" && parts.length === 3) current = { project: parts[1]!, order: parts[2]! };
    else if (parts.length === 0) {
      const first = overview(store).projects[0]?.orders[0];
      if (first) current = { project: first.project, order: first.order };
    } else return send(req, res, 404, "text/plain; charset=utf-8", "not found\n");
    const fragment = url.searchParams.get("fragment");
    const viewParam = url.searchParams.get("view") ?? "tasks";
    if (viewParam !== "tasks" && viewParam !== "graph" && viewParam !== "timeline") throw usageError(`view: expected tasks, graph or timeline, got ${viewParam}`);
    const view: OrderViewKind = viewParam;
    if (current) getOrderOr404(current);
    const taskParam = url.searchParams.get("task");
    const filter = taskFilter(url);
    const rowsHtml = () => {
      const offset = intParam(url, "offset", 0, 0);
      return renderRows(filterTasks(orderView(store, current!.project, current!.order).tasks, filter), offset, offset + PAGE_ROWS);
    };
    const html =
      fragment === "order" && current
        ? orderHtml(current, view, filter)
        : fragment === "tasks" && current
          ? renderTasks(orderView(store, current.project, current.order), filter)
        : fragment === "rows" && current
          ? rowsHtml()
        : fragment === "task" && current && taskParam
          ? renderTaskDetail(taskDetail(store, current.project, taskParam))
          : fragment === "sidebar"
            ? renderSidebar(overview(store), current)
            : fragment === "machine"
              ? renderMachine(machine.json())
              : page(current, view, filter);
    return send(req, res, 200, "text/html; charset=utf-8", html, extra);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err as Error;
      if (res.headersSent) return res.end();
      if (e instanceof AipmError) return json(req, res, e.kind === "usage" ? (/^unknown /.test(e.message) ? 404 : 400) : 409, { error: e.message });
      json(req, res, 500, { error: e.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? usageError(`port ${o.port} on ${o.host} is in use: choose another with --port`) : err),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  machine.start();
  const addr = server.address() as { port: number };
  cookieName = `aipm_token_${addr.port}`;
  const shownHost = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    server,
    csrf,
    login: () => {
      if (!token) return null;
      const code = randomBytes(24).toString("base64url");
      logins.set(code, Date.now() + LOGIN_TTL_MS);
      return `/login/${code}`;
    },
    close: async () => {
      clearInterval(watcher);
      clearInterval(heartbeat);
      machine.stop();
      for (const c of clients.values()) c.stream.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
