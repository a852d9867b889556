/**
 * `aipm dashboard`: an HTTP server on the database the CLI uses.
 *
 *   GET  /                              the first order's page (or an empty one)
 *   GET  /orders/PROJECT/ORDER          an order's page, data included; `?view=tasks|graph|timeline`,
 *                                       `?fragment=order|sidebar|machine`, `?fragment=task&task=T` (the task panel)
 *   GET  /api/overview                  every project and order with counts
 *   GET  /api/orders/PROJECT/ORDER      one order in full (tasks, workers, locks, failures, KPIs)
 *   GET  /api/machine                   CPU, memory, GPU, effective workers over the last hour
 *   GET  /api/orders/PROJECT/ORDER/attempts  every attempt (the timeline)
 *   GET  /api/tasks/PROJECT/TASK        the task's explain chain and its attempts
 *   GET  /api/tasks/PROJECT/TASK/log    the end of the task's latest log
 *   GET  /api/events                    server-sent events: `hello` (on each connection: refetch), `change`
 *                                       (the store changed), `machine` (a sample), `ping` (every 15 s)
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
 * query) and tells the open pages when another process changed the store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/open.js";
import { AipmError, usageError } from "../errors.js";
import { getOrder } from "../store/read-project.js";
import { dataVersion, storeIsOpen } from "../store/dashboard-reads.js";

const orderExists = (store: Store, project: string, order: string): void => void getOrder(store, project, order);
import { MachineHistory } from "./machine-history.js";
import { orderAttempts, orderView, overview, taskDetail, taskLogTail } from "./dashboard-data.js";
import { renderMachine, renderOrder, renderPage, renderSidebar, renderTaskDetail, type OrderViewKind } from "./render-page.js";
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

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    "referrer-policy": "no-referrer",
    ...headers,
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, doc: unknown) => send(res, status, "application/json; charset=utf-8", JSON.stringify(doc));

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

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const token = o.env.AIPM_DASHBOARD_TOKEN?.trim() || null;
  if (!isLoopback(o.host) && !token) {
    throw usageError(`refusing to listen on ${o.host} without AIPM_DASHBOARD_TOKEN: set it, or keep the default --host 127.0.0.1`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw usageError(`--port: expected a port number, got ${o.port}`);
  const { store } = o;
  const csrf = randomBytes(24).toString("base64url");
  const machine = new MachineHistory(store, o.sampleMs);
  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data = "{}") => {
    for (const c of clients) c.write(`event: ${event}\ndata: ${data}\n\n`);
  };
  machine.onSample = (p) => broadcast("machine", JSON.stringify(p));
  let version = dataVersion(store);
  const watcher = setInterval(() => {
    if (clients.size === 0 || !storeIsOpen(store)) return;
    const v = dataVersion(store);
    if (v !== version) {
      version = v;
      broadcast("change");
    }
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

  const orderHtml = (current: { project: string; order: string }, view: OrderViewKind): string =>
    renderOrder(orderView(store, current.project, current.order), view, view === "timeline" ? orderAttempts(store, current.project, current.order) : []);
  const page = (current: { project: string; order: string } | null, view: OrderViewKind): string =>
    renderPage({
      overview: overview(store),
      current,
      orderHtml: current ? orderHtml(current, view) : `<h1>No order yet</h1><p class="muted">Import a plan: <code>aipm import plan.yaml</code></p>`,
      machineHtml: renderMachine(machine.json()),
      csrf,
      view,
    });

  const getOrderOr404 = (c: { project: string; order: string }) => orderExists(store, c.project, c.order);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (isLoopback(o.host) && !isLoopback((req.headers.host ?? "").replace(/:\d+$/, ""))) {
      return json(res, 403, { error: "this dashboard answers to loopback host names only" });
    }
    const auth = authorised(req, url);
    if (!auth.ok) return json(res, 401, { error: "AIPM_DASHBOARD_TOKEN required (Authorization: Bearer, or ?token=)" });
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
      if (!mayChange(req)) return json(res, 403, { error: "a control request needs the token, or a same-origin request with the page's CSRF token" });
      const raw = await readBody(req);
      const [api, kind, project, id, action] = parts;
      if (api !== "api" || !project || !id || !action) return json(res, 404, { error: "no such control" });
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
      } else return json(res, 404, { error: "no such control" });
      // Our own writes do not move data_version for our connection: tell the other pages ourselves.
      broadcast("change");
      return json(res, 200, done);
    }
    if (method !== "GET" && method !== "HEAD") return json(res, 405, { error: "method not allowed" });

    if (parts[0] === "api") {
      if (parts[1] === "overview" && parts.length === 2) return json(res, 200, overview(store));
      if (parts[1] === "machine" && parts.length === 2) return json(res, 200, machine.json());
      if (parts[1] === "orders" && parts.length === 4) return json(res, 200, orderView(store, parts[2]!, parts[3]!));
      if (parts[1] === "orders" && parts.length === 5 && parts[4] === "attempts") {
        orderView(store, parts[2]!, parts[3]!); // 404 for an unknown order
        return json(res, 200, { attempts: orderAttempts(store, parts[2]!, parts[3]!) });
      }
      if (parts[1] === "tasks" && parts.length === 4) return json(res, 200, taskDetail(store, parts[2]!, parts[3]!));
      if (parts[1] === "tasks" && parts.length === 5 && parts[4] === "log") return json(res, 200, taskLogTail(store, parts[2]!, parts[3]!));
      if (parts[1] === "events" && parts.length === 2) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive", ...extra });
        // `hello` on every (re)connection: the page refetches what it shows (it may have missed changes), with the
        // CSRF token of this server (a restarted one has a new token).
        res.write(`retry: 1000\n\nevent: hello\ndata: ${JSON.stringify({ csrf })}\n\n`);
        clients.add(res);
        req.on("close", () => clients.delete(res));
        return;
      }
      return json(res, 404, { error: "no such API" });
    }
    let current: { project: string; order: string } | null = null;
    if (parts[0] === "orders" && parts.length === 3) current = { project: parts[1]!, order: parts[2]! };
    else if (parts.length === 0) {
      const first = overview(store).projects[0]?.orders[0];
      if (first) current = { project: first.project, order: first.order };
    } else return send(res, 404, "text/plain; charset=utf-8", "not found\n");
    const fragment = url.searchParams.get("fragment");
    const viewParam = url.searchParams.get("view") ?? "tasks";
    if (viewParam !== "tasks" && viewParam !== "graph" && viewParam !== "timeline") throw usageError(`view: expected tasks, graph or timeline, got ${viewParam}`);
    const view: OrderViewKind = viewParam;
    if (current) getOrderOr404(current);
    const taskParam = url.searchParams.get("task");
    const html =
      fragment === "order" && current
        ? orderHtml(current, view)
        : fragment === "task" && current && taskParam
          ? renderTaskDetail(taskDetail(store, current.project, taskParam))
          : fragment === "sidebar"
            ? renderSidebar(overview(store), current)
            : fragment === "machine"
              ? renderMachine(machine.json())
              : page(current, view);
    return send(res, 200, "text/html; charset=utf-8", html, extra);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err as Error;
      if (res.headersSent) return res.end();
      if (e instanceof AipmError) return json(res, e.kind === "usage" ? (/^unknown /.test(e.message) ? 404 : 400) : 409, { error: e.message });
      json(res, 500, { error: e.message });
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
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
