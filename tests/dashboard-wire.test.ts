/**
 * The dashboard light on the wire, over real HTTP and in real Chromium:
 * compressed responses (brotli, gzip) that decode to the same body; an event
 * stream in gzip whose `delta` carries only the row that changed; the task
 * list paged and filtered on the server; in the browser, a live update that
 * changes one row in place (the same element, the same table, no refetch of
 * the order), and the filter and "collapse DONE" at 390 px.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { brotliDecompressSync, createGunzip, gunzipSync } from "node:zlib";
import { store } from "./helpers.js";
import { aipm, importPlan, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { startDashboard, type Dashboard } from "../src/dashboard/server.js";
import type { Store } from "../src/store/open.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const open: Array<{ d: Dashboard; s: Store }> = [];
afterEach(async () => {
  for (const { d, s } of open.splice(0)) {
    await d.close();
    s.close();
  }
});

async function dashboard(ctx: Ctx, sampleMs = 60_000): Promise<Dashboard> {
  const s = await store(ctx.db);
  const d = await startDashboard({ store: s, host: "127.0.0.1", port: 0, env: ctx.env, sampleMs });
  open.push({ d, s });
  return d;
}

/** A GET through node:http (which does not decode): status, headers and the body as sent. */
function rawGet(url: string, accept: string): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { "accept-encoding": accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function sql(ctx: Ctx, text: string): Promise<void> {
  const s = await store(ctx.db);
  try {
    s.conn.prepare(text).run();
  } finally {
    s.close();
  }
}

/** n tasks that never ran: nothing in the page moves with time. */
function quiet(n: number) {
  const tasks = Array.from({ length: n }, (_, i) => ({ id: `T${i}`, title: `Task ${i}`, deps: i >= 5 ? [`T${i % 5}`] : [], command: ["true"] }));
  return { project: "p", root: "./ws", orders: [{ id: "O1", title: "Quiet", tasks }] };
}

describe("dashboard on the wire: HTTP", () => {
  it("compresses pages, fragments and JSON as the client accepts (brotli, gzip), decoding to the same body; small ones go as they are", async () => {
    const ctx = setup();
    await importPlan(ctx, quiet(300));
    const d = await dashboard(ctx);
    const frag = `${d.url}orders/p/O1?fragment=order`;
    const plain = await rawGet(frag, "identity");
    expect(plain.res.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString("utf8")).toContain('data-task="T0"');
    const br = await rawGet(frag, "gzip, deflate, br");
    expect(br.res.headers["content-encoding"]).toBe("br");
    expect(br.res.headers.vary).toBe("accept-encoding");
    expect(brotliDecompressSync(br.body).toString("utf8")).toBe(plain.body.toString("utf8"));
    expect(br.body.length * 5).toBeLessThan(plain.body.length);
    const gz = await rawGet(frag, "gzip");
    expect(gz.res.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).toString("utf8")).toBe(plain.body.toString("utf8"));
    // `br;q=0` refuses brotli.
    expect((await rawGet(frag, "br;q=0, gzip")).res.headers["content-encoding"]).toBe("gzip");
    const api = await rawGet(`${d.url}api/orders/p/O1`, "gzip, deflate, br");
    expect(api.res.headers["content-encoding"]).toBe("br");
    expect(JSON.parse(brotliDecompressSync(api.body).toString("utf8")).tasks).toHaveLength(300);
    const small = await rawGet(`${d.url}api/tasks/p/T0/log`, "gzip, deflate, br");
    expect(small.res.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(small.body.toString("utf8"))).toMatchObject({ task: "T0", log: null });
  });

  it("streams events in gzip, flushed per event; a change sends only the changed row and the parts that changed", async () => {
    const ctx = setup();
    await importPlan(ctx, quiet(300));
    const d = await dashboard(ctx);
    const events: Array<{ name: string; data: string }> = [];
    const req = request(`${d.url}api/events?project=p&order=O1`, { headers: { "accept-encoding": "gzip, deflate, br" } }, (res) => {
      expect(res.headers["content-encoding"]).toBe("gzip");
      expect(res.headers["content-type"]).toBe("text/event-stream");
      let buf = "";
      res.pipe(createGunzip()).on("data", (c: Buffer) => {
        buf += c.toString("utf8");
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const name = /^event: (\S+)/m.exec(block)?.[1];
          if (name) events.push({ name, data: /^data: (.*)$/m.exec(block)?.[1] ?? "" });
        }
      });
    });
    req.end();
    try {
      // Each event arrives on its own, not when a compression buffer fills.
      await waitFor(() => events.some((e) => e.name === "hello"), { what: "hello" });
      await sql(ctx, "UPDATE tasks SET title = 'Renamed <b>' WHERE id = 'T7'");
      const delta = await waitFor(() => events.find((e) => e.name === "delta"), { what: "a delta" });
      const doc = JSON.parse(delta.data);
      expect(doc.rows.map((r: [string, string]) => r[0])).toEqual(["T7"]);
      expect(doc.rows[0][1]).toContain("Renamed &lt;b&gt;");
      expect(doc.removed).toEqual([]);
      expect(doc.added).toEqual([]);
      // Nothing else in the order changed: no part is sent.
      expect(Object.keys(doc.parts)).toEqual([]);
      await sql(ctx, "UPDATE tasks SET status = 'CANCELLED' WHERE id = 'T8'");
      const second = await waitFor(() => events.filter((e) => e.name === "delta")[1], { what: "a second delta" });
      const doc2 = JSON.parse(second.data);
      expect(doc2.rows.map((r: [string, string]) => r[0])).toContain("T8");
      expect(doc2.rows.length).toBeLessThan(10);
      // The counts changed: the header goes along.
      expect(doc2.parts.head).toContain("CANCELLED 1");
      expect(events.some((e) => e.name === "sidebar" && e.data.includes("CANCELLED 1"))).toBe(true);
    } finally {
      req.destroy();
    }
  });

  it("pages the task list (200 rows, then 'show more') and filters it on the server: text, status, collapse DONE", async () => {
    const ctx = setup();
    await importPlan(ctx, quiet(450));
    await sql(ctx, "UPDATE tasks SET status = 'DONE' WHERE CAST(substr(id, 2) AS INTEGER) % 2 = 0");
    const d = await dashboard(ctx);
    const rows = (html: string) => [...html.matchAll(/<tr data-task="([^"]+)"/g)].map((m) => m[1]);
    const page = await (await fetch(`${d.url}orders/p/O1`)).text();
    expect(rows(page)).toHaveLength(200);
    expect(page).toContain('data-action="more" data-offset="200"');
    const more = await (await fetch(`${d.url}orders/p/O1?fragment=rows&offset=200`)).text();
    expect(rows(more)).toHaveLength(200);
    expect(new Set([...rows(page), ...rows(more)]).size).toBe(400);
    const last = await (await fetch(`${d.url}orders/p/O1?fragment=rows&offset=400`)).text();
    expect(rows(last)).toHaveLength(50);
    expect(last).not.toContain('data-action="more"');
    const hidden = await (await fetch(`${d.url}orders/p/O1?fragment=tasks&done=hide`)).text();
    expect(rows(hidden).length).toBe(200);
    expect(hidden).not.toContain('data-status="DONE"');
    expect(hidden).toContain("225 of 450 tasks (225 DONE collapsed)");
    const found = await (await fetch(`${d.url}orders/p/O1?fragment=tasks&q=t13`)).text();
    expect(rows(found)).toEqual(["T13", "T130", "T131", "T132", "T133", "T134", "T135", "T136", "T137", "T138", "T139"]);
    // Every word must match: the id, the title, the status or the reason.
    const both = await (await fetch(`${d.url}orders/p/O1?fragment=tasks&q=${encodeURIComponent("task 13")}`)).text();
    expect(rows(both)).toEqual(expect.arrayContaining(["T13", "T113", "T213", "T313", "T413"]));
    expect(rows(both)).toHaveLength(15);
    const queued = await (await fetch(`${d.url}orders/p/O1?fragment=tasks&q=queued&limit=1000`)).text();
    expect(rows(queued)).toHaveLength(225);
    // The filter survives a reload: the page renders it from its address.
    const again = await (await fetch(`${d.url}orders/p/O1?q=T44&done=hide`)).text();
    expect(again).toContain('value="T44"');
    expect(rows(again)).toEqual(["T441", "T443", "T445", "T447", "T449"]);
    const bad = await fetch(`${d.url}orders/p/O1?fragment=rows&offset=-1`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^offset: expected a whole number/);
  });
});

const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium && process.env.CI !== "true")("dashboard on the wire: in Chromium", () => {
  it("a live update changes the row in place: the same element, the same table, and no refetch of the order", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    const steps = "for i in $(seq 1 40); do echo AIPM_PROGRESS $i/40; sleep 0.4; done; sleep 30";
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "A", command: ["sh", "-c", steps] }, ...Array.from({ length: 30 }, (_, i) => ({ id: `Q${i}`, deps: ["A"], command: ["true"] }))] }],
    });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"])).code).toBe(0);
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const fetched: string[] = [];
      page.on("request", (r) => {
        if (/fragment=(order|tasks)/.test(r.url())) fetched.push(r.url());
      });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator('tr[data-task="A"] .bar').waitFor({ timeout: 15_000 });
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      // The refetch on connection is done: from now on only the event stream brings changes.
      await waitFor(() => fetched.length >= 1, { what: "the refetch on connection" });
      await page.waitForLoadState("networkidle").catch(() => {});
      const before = fetched.length;
      await page.evaluate(() => {
        const g = globalThis as any;
        g.__row = g.document.querySelector('tr[data-task="A"]');
        g.__table = g.document.querySelector("table.tasks");
        g.__other = g.document.querySelector('tr[data-task="Q5"]');
        g.__button = g.__row.querySelector('button[data-action="log"]');
      });
      const first = await page.locator('tr[data-task="A"] .bar').getAttribute("data-progress");
      await waitFor(async () => (await page.locator('tr[data-task="A"] .bar').getAttribute("data-progress")) !== first, {
        what: "A's progress to change on the page",
        timeoutMs: 15_000,
      });
      const same = await page.evaluate(() => {
        const g = globalThis as any;
        return {
          row: g.__row === g.document.querySelector('tr[data-task="A"]') && g.__row.isConnected,
          table: g.__table === g.document.querySelector("table.tasks"),
          other: g.__other === g.document.querySelector('tr[data-task="Q5"]'),
          button: g.__button === g.document.querySelector('tr[data-task="A"] button[data-action="log"]'),
        };
      });
      expect(same).toEqual({ row: true, table: true, other: true, button: true });
      // The running clock advances in the page, without the server.
      const clock = page.locator('tr[data-task="A"] td.time .el');
      const t1 = await clock.textContent();
      await waitFor(async () => (await clock.textContent()) !== t1, { what: "the clock to advance" });
      expect(fetched.length).toBe(before);
    } finally {
      await browser.close();
      await aipm(ctx, ["kill", "A"]);
    }
  });

  it("'show more' appends the next 200 rows of a long order, whose buttons work", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    await importPlan(ctx, quiet(450));
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      const count = () => page.locator("#rows tr[data-task]").count();
      expect(await count()).toBe(200);
      await page.locator('button[data-action="more"]').click();
      await waitFor(async () => (await count()) === 400, { what: "400 rows" });
      await page.locator('button[data-action="more"]').click();
      await waitFor(async () => (await count()) === 450, { what: "450 rows" });
      expect(await page.locator('button[data-action="more"]').count()).toBe(0);
      await page.locator('tr[data-task="T440"] button[data-action="log"]').click();
      await page.locator("#logtitle").filter({ hasText: /^T440/ }).waitFor({ timeout: 5_000 });
    } finally {
      await browser.close();
    }
  });

  it("at 390 px the filter and 'collapse DONE' narrow the list, without sideways scroll, and survive a reload", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    const tasks = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `D${i}`, title: `Done job ${i}`, command: ["true"] })),
      { id: "BAD", title: "Breaks", command: ["false"], max_attempts: 1 },
      ...Array.from({ length: 3 }, (_, i) => ({ id: `W${i}`, title: `After the broken one ${i}`, deps: ["BAD"], command: ["true"] })),
    ];
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).not.toBe(2);
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      const ids = () => page.locator("#rows tr[data-task]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task")));
      const wide = () => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
      expect(await ids()).toHaveLength(10);
      const box = await page.locator("#q").boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      await page.locator("#q").fill("blocked");
      await waitFor(async () => (await ids()).join() === "W0,W1,W2", { what: "only the blocked tasks" });
      expect(await wide()).toBeLessThanOrEqual(390);
      await page.locator("#q").fill("");
      await waitFor(async () => (await ids()).length === 10, { what: "every task again" });
      await page.locator("#hidedone").check();
      await waitFor(async () => (await ids()).join() === "BAD,W0,W1,W2", { what: "DONE collapsed" });
      expect(await page.locator("#shown").textContent()).toBe("4 of 10 tasks (6 DONE collapsed)");
      expect(await wide()).toBeLessThanOrEqual(390);
      for (const id of ["BAD", "W0"]) {
        const b = await page.locator(`tr[data-task="${id}"] button[data-action="log"]`).boundingBox();
        expect(b!.x + b!.width).toBeLessThanOrEqual(390);
      }
      await page.locator("#q").fill("D3");
      await page.locator("#hidedone").uncheck();
      await waitFor(async () => (await ids()).join() === "D3", { what: "D3 alone" });
      // The address keeps the filter: a reload (or a link) shows the same list.
      await waitFor(() => page.url().includes("q=D3"), { what: "the filter in the address" });
      await page.reload();
      expect(await ids()).toEqual(["D3"]);
      expect(await page.locator("#q").inputValue()).toBe("D3");
    } finally {
      await browser.close();
    }
  });
});

describe.skipIf(!haveChromium && process.env.CI !== "true")("dashboard on the wire: a fetch overtaken by a change", () => {
  it("a task list rendered before a change and delivered after its delta still ends showing the change", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    await importPlan(ctx, quiet(10));
    const d = await dashboard(ctx);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${d.url}orders/p/O1`);
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      await page.waitForLoadState("networkidle").catch(() => {});
      // The next task list is fetched from the server at once (rendered with T3 QUEUED) and held.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let held = false;
      await page.route(/fragment=tasks/, async (route) => {
        const response = await route.fetch();
        held = true;
        await released;
        await route.fulfill({ response });
      });
      const done = page.waitForEvent("requestfinished", (r) => /fragment=tasks/.test(r.url()));
      await page.locator("#hidedone").check();
      await waitFor(() => held, { what: "the task list fetched and held" });
      // Meanwhile T3 changes: its delta reaches the page first.
      await sql(ctx, "UPDATE tasks SET status = 'CANCELLED', finished_at = 1 WHERE id = 'T3'");
      await waitFor(async () => (await page.locator('tr[data-task="T3"]').getAttribute("data-status")) === "CANCELLED", { what: "the delta", timeoutMs: 10_000 });
      // Then the older list arrives: the change must survive it.
      release();
      await done;
      await waitFor(async () => (await page.locator('tr[data-task="T3"]').getAttribute("data-status")) === "CANCELLED", { what: "T3 still CANCELLED", timeoutMs: 3_000 });
    } finally {
      await browser.close();
    }
  });
});
