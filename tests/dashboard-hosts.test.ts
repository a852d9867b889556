/**
 * The dashboard's hosts section (issue 16), in a real browser: with several
 * hosts on the database the order page lists each — labels, last heartbeat,
 * this project's attempts running there, CPU/memory — and marks a host
 * silent past the lease; the section follows changes live, without a reload.
 */
import { afterEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { store } from "./helpers.js";
import { aipm, importPlan, setup, waitFor, type Ctx } from "./runtime-helpers.js";
import { startDashboard, type Dashboard } from "../src/dashboard/server.js";
import { beatHost } from "../src/store/hosts.js";
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

async function dashboard(ctx: Ctx): Promise<{ d: Dashboard; s: Store }> {
  const s = await store(ctx.db);
  const d = await startDashboard({ store: s, host: "127.0.0.1", port: 0, env: ctx.env, sampleMs: 500 });
  open.push({ d, s });
  return { d, s };
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== "true")("dashboard: hosts", () => {
  it("lists the hosts with labels, heartbeat, running and CPU/memory, marks a silent one, and follows a change live", async () => {
    const { chromium } = await import("playwright-core");
    const ctx = setup();
    const plan = { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "A", command: ["sleep", "30"] }] }] };
    await importPlan(ctx, plan);
    await importPlan(ctx, plan, { ...ctx.env, AIPM_HOST: "h2" }); // h2's root (on PostgreSQL a host launches only in its own)
    expect((await aipm(ctx, ["parallel-launch", "p", "O1"], { env: { AIPM_HOST: "h2", AIPM_HOST_LABELS: "gpu" } })).code).toBe(0);
    const { d, s } = await dashboard(ctx);
    // h1: seen ten minutes ago (past any lease), with its last sample.
    beatHost(s, { host: "h1", labels: ["big"], cpuPercent: 12.5, memoryPercent: 40 }, Date.now() - 600_000);
    const api = (await (await fetch(`${d.url}api/orders/p/O1`)).json()) as { hosts: Array<Record<string, unknown>> };
    expect(api.hosts.map((h) => [h.host, h.labels, h.alive, h.running])).toEqual([
      ["h1", ["big"], false, 0],
      ["h2", ["gpu"], true, 1],
    ]);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${d.url}orders/p/O1`);
      await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 7));
      const h1 = page.locator('table.hosts tr[data-host="h1"]');
      const h2 = page.locator('table.hosts tr[data-host="h2"]');
      await h1.waitFor({ timeout: 10_000 });
      expect(await h1.locator(".badge").textContent()).toBe("silent");
      expect(await h1.locator('td[data-label="labels"]').textContent()).toBe("big");
      expect(await h1.locator('td[data-label="cpu"]').textContent()).toBe("12.5%");
      expect(await h1.locator('td[data-label="memory"]').textContent()).toBe("40%");
      expect(await h2.locator('td[data-label="running"]').textContent()).toBe("1");
      expect(await h2.locator('td[data-label="labels"]').textContent()).toBe("gpu");
      expect(await h2.locator(".badge").count()).toBe(0);
      // h1 beats again: the page shows it alive, in the same document.
      beatHost(s, { host: "h1", labels: ["big"] });
      await waitFor(async () => (await h1.locator(".badge").count()) === 0, { what: "h1 no longer silent on the page", timeoutMs: 15_000 });
      expect(await page.evaluate(() => (globalThis as unknown as { __marker?: number }).__marker)).toBe(7);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
