/**
 * The dashboard over real HTTP, and in a real browser (Debian's chromium
 * driven by playwright-core): an order runs (launched by the built binary,
 * supervised by a detached supervisor) while the page is open.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { REPO, store } from "./helpers.js";
import { aipm, importPlan, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { startDashboard, type Dashboard } from "../src/dashboard/server.js";
import { remoteBaseUrls } from "../src/dashboard/remote-urls.js";
import type { Store } from "../src/store/open.js";

const CHROMIUM = "/usr/bin/chromium";
const XSS = "<script>window.__xss=1</script>";

const open: Array<{ d: Dashboard; s: Store }> = [];
afterEach(async () => {
  for (const { d, s } of open.splice(0)) {
    await d.close();
    s.close();
  }
});

async function dashboard(ctx: Ctx, env: Record<string, string> = {}, host = "127.0.0.1", port = 0): Promise<Dashboard> {
  const s = await store(ctx.db);
  const d = await startDashboard({ store: s, host, port, env: { ...ctx.env, ...env }, sampleMs: 500 });
  open.push({ d, s });
  return d;
}

function plan(ctx: Ctx) {
  const steps = "for i in 1 2 3 4 5 6 7 8; do echo AIPM_PROGRESS $i/8; sleep 0.7; done; sleep 30";
  return {
    project: "p",
    root: "./ws",
    orders: [
      {
        id: "O1",
        title: "Live order",
        tasks: [
          { id: "A", title: XSS, target_files: ["a.txt"], command: ["sh", "-c", steps] },
          { id: "B", title: "Long one", target_files: ["b.txt"], command: ["sleep", "30"] },
          { id: "C", title: "After A", deps: ["A"], command: ["true"] },
        ],
      },
    ],
  };
}

async function launched(ctx: Ctx): Promise<void> {
  await importPlan(ctx, plan(ctx));
  expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
}

async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** A GET with a Host header of our choosing (fetch does not let one set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

async function taskStatus(ctx: Ctx, task: string): Promise<string> {
  const s = await store(ctx.db);
  try {
    return s.conn.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(task) as string;
  } finally {
    s.close();
  }
}

describe("dashboard: HTTP", () => {
  it("serves the overview, an order in full and its page with the data in it; task text is escaped", async () => {
    const ctx = setup();
    await launched(ctx);
    const d = await dashboard(ctx);
    const ov = await getJson(`${d.url}api/overview`);
    expect(ov.projects[0]).toMatchObject({ project: "p", orders: [{ order: "O1", title: "Live order", total: 3 }] });
    await waitFor(async () => (await getJson(`${d.url}api/orders/p/O1`)).workers.length === 2);
    const o = await getJson(`${d.url}api/orders/p/O1`);
    expect(o.tasks.map((t: any) => [t.task, t.level])).toEqual([
      ["A", 0],
      ["B", 0],
      ["C", 1],
    ]);
    expect(o.workers.map((w: any) => w.task).sort()).toEqual(["A", "B"]);
    expect(o.locks.map((l: any) => l.file).sort()).toEqual(["a.txt", "b.txt"]);
    expect(o.kpis).toMatchObject({ done: 0, failed: 0 });
    const res = await fetch(`${d.url}orders/p/O1`);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('data-task="A"');
    expect(html).toContain('data-task="C"');
    expect(html).toContain("&lt;script&gt;window.__xss=1&lt;/script&gt;");
    expect(html).not.toContain(XSS);
    expect((await fetch(`${d.url}orders/p/NOPE`)).status).toBe(404);
    const log = await getJson(`${d.url}api/tasks/p/A/log`);
    expect(log.text).toMatch(/AIPM_PROGRESS \d\/8/);
  });

  it("controls need the CSRF token from the page and the same origin; then pause, resume, kill and retry work", async () => {
    const ctx = setup();
    await launched(ctx);
    const d = await dashboard(ctx);
    const post = (path: string, headers: Record<string, string>) => fetch(`${d.url}${path}`, { method: "POST", headers, body: "{}" });
    expect((await post("api/orders/p/O1/pause", {})).status).toBe(403);
    expect((await post("api/orders/p/O1/pause", { "x-csrf-token": "wrong" })).status).toBe(403);
    expect((await post("api/orders/p/O1/pause", { "x-csrf-token": d.csrf, origin: "http://evil.example" })).status).toBe(403);
    const host = new URL(d.url).host;
    const ok = await post("api/orders/p/O1/pause", { "x-csrf-token": d.csrf, origin: `http://${host}` });
    expect(ok.status).toBe(200);
    expect(await (ok.json() as Promise<any>)).toEqual({ project: "p", order: "O1", paused: true });
    expect((await post("api/orders/p/O1/resume", { "x-csrf-token": d.csrf })).status).toBe(200);
    await waitFor(async () => (await taskStatus(ctx, "B")) === "IN_PROGRESS");
    const kill = await post("api/tasks/p/B/kill", { "x-csrf-token": d.csrf });
    expect(await (kill.json() as Promise<any>)).toMatchObject({ task: "B", was: "IN_PROGRESS", status: "CANCELLED" });
    expect(await taskStatus(ctx, "B")).toBe("CANCELLED");
    const retried = await post("api/tasks/p/B/retry", { "x-csrf-token": d.csrf });
    expect(await (retried.json() as Promise<any>)).toMatchObject({ task: "B", status: "QUEUED" });
    const bad = await post("api/tasks/p/C/retry", { "x-csrf-token": d.csrf });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatch(/only FAILED, CANCELLED or SKIPPED/);
    // A Host header that is not loopback is refused (DNS rebinding).
    expect(await getWithHost(`${d.url}api/overview`, "attacker.example")).toBe(403);
    expect(await getWithHost(`${d.url}api/overview`, "localhost:8088")).toBe(200);
  });

  it("KPIs and the error trend count the order's ends", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "OK", command: ["true"] }, { id: "BAD", command: ["false"], max_attempts: 2 }] }],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);
    const d = await dashboard(ctx);
    const o = await getJson(`${d.url}api/orders/p/O1`);
    expect(o.kpis).toMatchObject({ done: 1, failed: 1, success_rate: 50 });
    expect(o.trend).toHaveLength(12);
    const sum = (k: string) => o.trend.reduce((a: number, p: any) => a + p[k], 0);
    expect([sum("succeeded"), sum("failed")]).toEqual([1, 2]);
    expect(o.failures).toEqual([expect.objectContaining({ task: "BAD", failure_kind: "exit_code", attempts: 2 })]);
    const html = await (await fetch(`${d.url}orders/p/O1`)).text();
    expect(html).toContain("<b>2</b> failed");
  });

  it("refuses to listen beyond loopback without AIPM_DASHBOARD_TOKEN; with one, every request needs it", async () => {
    const ctx = setup();
    await importPlan(ctx, plan(ctx));
    await expect(dashboard(ctx, {}, "0.0.0.0")).rejects.toThrow(/AIPM_DASHBOARD_TOKEN/);
    const cli = await aipm(ctx, ["dashboard", "--host", "0.0.0.0", "--port", "0"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split("\n")).toHaveLength(1);
    expect(cli.stderr).toMatch(/refusing to listen on 0.0.0.0 without AIPM_DASHBOARD_TOKEN/);
    const d = await dashboard(ctx, { AIPM_DASHBOARD_TOKEN: "s3cret" }, "0.0.0.0");
    const base = d.url.replace("0.0.0.0", "127.0.0.1");
    expect((await fetch(`${base}api/overview`)).status).toBe(401);
    expect((await fetch(`${base}api/overview`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await fetch(`${base}api/overview`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    const page = await fetch(`${base}orders/p/O1?token=s3cret`, { redirect: "manual" });
    // The token moves to a cookie (named after the port) and leaves the address bar.
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/orders/p/O1");
    const port = new URL(base).port;
    // Lax: a link opened from a chat or a notification carries it (POSTs still need the CSRF token).
    expect(page.headers.get("set-cookie")).toBe(`aipm_token_${port}=s3cret; HttpOnly; SameSite=Lax; Path=/`);
    const withCookie = await fetch(`${base}orders/p/O1`, { headers: { cookie: `aipm_token_${port}=s3cret` } });
    expect(withCookie.status).toBe(200);
    expect(await withCookie.text()).toContain('data-task="A"');
    const pause = await fetch(`${base}api/orders/p/O1/pause`, { method: "POST", headers: { authorization: "Bearer s3cret" } });
    expect(pause.status).toBe(200);
    // The CSRF token alone is not enough when a token is required.
    expect((await fetch(`${base}api/orders/p/O1/resume`, { method: "POST", headers: { "x-csrf-token": d.csrf } })).status).toBe(401);
    // A one-time login link (what `aipm dashboard --host 0.0.0.0` prints for a phone): the cookie, once.
    const login = d.login()!;
    expect(login).toMatch(/^\/login\/[A-Za-z0-9_-]{20,}$/);
    const first = await fetch(`${base}${login.slice(1)}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/");
    expect(first.headers.get("set-cookie")).toBe(`aipm_token_${port}=s3cret; HttpOnly; SameSite=Lax; Path=/`);
    expect((await fetch(`${base}${login.slice(1)}`, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(`${base}login/${"x".repeat(32)}`, { redirect: "manual" })).status).toBe(401);
  });

  it("from another device: one URL per non-loopback address of the machine (IPv4 for 0.0.0.0), none on loopback", () => {
    const nets = {
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
      eth0: [
        { address: "192.168.1.20", family: "IPv4", internal: false },
        { address: "fe80::1", family: "IPv6", internal: false },
        { address: "fd00::20", family: "IPv6", internal: false },
      ],
      tailscale0: [{ address: "100.64.0.7", family: "IPv4", internal: false }],
    } as unknown as NodeJS.Dict<import("node:os").NetworkInterfaceInfo[]>;
    expect(remoteBaseUrls("0.0.0.0", 8088, nets)).toEqual(["http://192.168.1.20:8088/", "http://100.64.0.7:8088/"]);
    expect(remoteBaseUrls("::", 8088, nets)).toEqual(["http://192.168.1.20:8088/", "http://[fd00::20]:8088/", "http://100.64.0.7:8088/"]);
    expect(remoteBaseUrls("192.168.1.20", 9000, nets)).toEqual(["http://192.168.1.20:9000/"]);
    expect(remoteBaseUrls("127.0.0.1", 8088, nets)).toEqual([]);
  });
});

const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium && process.env.CI !== "true")("dashboard: in a browser", () => {
  it("shows progress change live, kills a task with a click, renders a <script> title as text; screenshot", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    await launched(ctx);
    const d = await dashboard(ctx);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.on("dialog", (dlg) => void dlg.accept());
      await page.goto(`${d.url}orders/p/O1`);
      await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 42));
      const bar = page.locator('tr[data-task="A"] .bar');
      await bar.waitFor({ timeout: 15_000 });
      const first = await bar.getAttribute("data-progress");
      await waitFor(async () => (await page.locator('tr[data-task="A"] .bar').getAttribute("data-progress")) !== first, {
        what: "A's progress to change on the page",
        timeoutMs: 15_000,
      });
      // Same document: the update came without a reload.
      expect(await page.evaluate(() => (globalThis as unknown as { __marker?: number }).__marker)).toBe(42);
      // The title is text, and the script in it never ran.
      expect(await page.locator('tr[data-task="A"] td').nth(1).textContent()).toBe(XSS);
      expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
      await page.locator('tr[data-task="B"] button[data-action="kill"]').click();
      await waitFor(async () => (await taskStatus(ctx, "B")) === "CANCELLED", { what: "B to be CANCELLED in the database" });
      await page.locator('tr[data-task="B"][data-status="CANCELLED"]').waitFor({ timeout: 10_000 });
      await page.locator('tr[data-task="A"] button[data-action="log"]').click();
      await page.locator("#logtext").filter({ hasText: "AIPM_PROGRESS" }).waitFor({ timeout: 10_000 });
      const shot = join(ctx.dir, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });
});

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Screenshots the tests leave for people to look at (not compared). */
const SHOTS = join(process.env.AIPM_SCREENSHOTS ?? join(REPO, "tests", ".screenshots"));

describe.skipIf(!haveChromium && process.env.CI !== "true")("dashboard: on a phone, after a restart, under updates", () => {
  it("at 390 px: no sideways scroll; every task's id, status, reason and actions visible; the sidebar a menu; Requeue and Kill ask first", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    await launched(ctx);
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const dialogs: string[] = [];
      let answer = false;
      page.on("dialog", (dlg) => {
        dialogs.push(dlg.message());
        void (answer ? dlg.accept() : dlg.dismiss());
      });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator('tr[data-task="B"][data-status="IN_PROGRESS"]').waitFor({ timeout: 15_000 });
      await page.locator('#live.on').waitFor({ timeout: 10_000 });
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
      for (const id of ["A", "B", "C"]) {
        const row = page.locator(`tr[data-task="${id}"]`);
        for (const part of ["td.id", "td.st .badge", "td.actions button >> nth=0"]) {
          const box = await row.locator(part).boundingBox();
          expect(box, `${id} ${part}`).not.toBeNull();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(390);
        }
      }
      expect(await page.locator('tr[data-task="C"] .why').textContent()).toBe("waiting for A");
      // The sidebar is a menu.
      expect(await page.locator("#sidebar").isVisible()).toBe(false);
      await page.locator("label.menubtn").click();
      expect(await page.locator("#sidebar").isVisible()).toBe(true);
      await page.locator("label.menubtn").click();
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, "dashboard-390.png"), fullPage: true });
      // Requeue asks, naming the task and what is lost; dismissed, nothing happens.
      await page.locator('tr[data-task="B"] button[data-action="requeue"]').click();
      await waitFor(() => dialogs.length === 1, { what: "the requeue confirmation" });
      expect(dialogs[0]).toMatch(/^Requeue B\? .*starts again from the beginning\. Its running attempt \(.+ of work\) is lost\.$/);
      expect(await taskStatus(ctx, "B")).toBe("IN_PROGRESS");
      answer = true;
      await page.locator('tr[data-task="B"] button[data-action="kill"]').click();
      await waitFor(async () => (await taskStatus(ctx, "B")) === "CANCELLED", { what: "B to be CANCELLED" });
      expect(dialogs[1]).toMatch(/^Kill B\? It ends CANCELLED\./);
      const wide = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await wide.goto(`${d.url}orders/p/O1`);
      await wide.locator('tr[data-task="B"][data-status="CANCELLED"]').waitFor({ timeout: 10_000 });
      expect(await wide.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(1440);
      await wide.screenshot({ path: join(SHOTS, "dashboard-1440.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("after the server restarts, the open page shows the current state without a reload (and its controls work)", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    await launched(ctx);
    const d = await dashboard(ctx);
    const port = Number(new URL(d.url).port);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      page.on("dialog", (dlg) => void dlg.accept());
      await page.goto(`${d.url}orders/p/O1`);
      await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 7));
      await page.locator('tr[data-task="B"][data-status="IN_PROGRESS"]').waitFor({ timeout: 15_000 });
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      // The server goes away; meanwhile B is killed and the order paused by the CLI.
      const { d: d1, s } = open.pop()!;
      await d1.close();
      s.close();
      await page.locator("#live.off").waitFor({ timeout: 10_000 });
      expect(await page.locator("#live").textContent()).toBe("reconnecting…");
      expect((await aipm(ctx, ["kill", "B"])).code).toBe(0);
      expect((await aipm(ctx, ["pause", "p", "O1"])).code).toBe(0);
      await dashboard(ctx, {}, "127.0.0.1", port);
      await page.locator('tr[data-task="B"][data-status="CANCELLED"]').waitFor({ timeout: 15_000 });
      await page.locator("#order .badge.paused").waitFor({ timeout: 5_000 });
      await page.locator("#live.on").waitFor({ timeout: 5_000 });
      expect(await page.evaluate(() => (globalThis as unknown as { __marker?: number }).__marker)).toBe(7);
      // The new server has a new CSRF token: the page took it from the stream, so Resume works.
      await page.locator('button[data-action="resume"]').click();
      await waitFor(async () => {
        const st = await store(ctx.db);
        try {
          return st.conn.prepare("SELECT paused FROM orders WHERE id = 'O1'").pluck().get() === 0;
        } finally {
          st.close();
        }
      }, { what: "the order resumed from the page" });
    } finally {
      await browser.close();
    }
  });

  it("a click on Log lands while rows update every few hundred ms; the log does not jump while scrolled up", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    const noisy = "i=0; while true; do i=$((i+1)); echo AIPM_PROGRESS $((i % 50))/50; echo line $i; sleep 0.1; done";
    const tasks = Array.from({ length: 12 }, (_, i) => ({ id: `T${String(i).padStart(2, "0")}`, title: `Noisy ${i}`, command: ["sh", "-c", noisy] }));
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--max-workers", "6"])).code).toBe(0);
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator('tr[data-task="T00"] .bar').waitFor({ timeout: 15_000 });
      // Count the updates that land while we click.
      await page.evaluate(() => {
        const g = globalThis as any;
        g.__changes = 0;
        new g.MutationObserver(() => g.__changes++).observe(g.document.getElementById("order"), { subtree: true, childList: true, characterData: true, attributes: true });
      });
      const changes = () => page.evaluate(() => (globalThis as unknown as { __changes: number }).__changes);
      for (const id of ["T00", "T03", "T07", "T11", "T05"]) {
        // A slow tap, as a person's: the page updates between the press and the release.
        const box = (await page.locator(`tr[data-task="${id}"] button[data-action="log"]`).boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.down();
        const seen = await changes();
        await waitFor(async () => (await changes()) > seen, { what: "an update while the button is pressed", timeoutMs: 10_000 });
        await page.mouse.up();
        await page.locator("#logtitle").filter({ hasText: new RegExp(`^${id}`) }).waitFor({ timeout: 5_000 });
        await page.locator('button[data-action="closelog"]').click();
      }
      // Reading back in a growing log: the panel stays where the reader is.
      await page.locator('tr[data-task="T00"] button[data-action="log"]').click();
      const pre = page.locator("#logtext");
      await waitFor(async () => (await pre.evaluate((el) => el.scrollHeight > el.clientHeight + 100)), { what: "a log longer than its panel" });
      await pre.evaluate((el) => (el.scrollTop = 0));
      const before = await pre.textContent();
      await waitFor(async () => (await pre.textContent()) !== before, { what: "the log to grow", timeoutMs: 10_000 });
      expect(await pre.evaluate((el) => el.scrollTop)).toBe(0);
      // Back at the end, it follows again.
      await pre.evaluate((el) => (el.scrollTop = el.scrollHeight));
      const again = await pre.textContent();
      await waitFor(async () => (await pre.textContent()) !== again, { what: "the log to grow again", timeoutMs: 10_000 });
      expect(await pre.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(30);
    } finally {
      await browser.close();
      await aipm(ctx, ["pause", "p", "O1"]);
      for (const t of tasks) await aipm(ctx, ["kill", t.id]);
    }
  });
});
