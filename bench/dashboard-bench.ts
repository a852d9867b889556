/**
 * The dashboard's costs, with the built binary serving a database that holds
 * one order of 1,000 tasks (a DAG, some running with locks, some done, some
 * failed):
 *
 * - the order page (`GET /orders/P/O`, the full HTML with its data): median
 *   of 15 requests — target < 200 ms;
 * - a status change reaching an open page: another connection commits, the
 *   page's event stream says `change`, and the page's refetch of the order
 *   fragment completes — median of 7 — target < 1 s;
 * - the server's CPU while idle with one page open (its event stream
 *   connected), from /proc over 10 s (machine sampling included) — target < 2 %.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openStore } from "../src/store/open.js";
import { importPlan } from "../src/plan/import-plan.js";
import { packageRoot } from "../src/util/package-root.js";
import type { Result, Suite } from "./run.js";
import { median, mulberry32 } from "./detect-scale.js";

const N = 1000;

function plan() {
  const rnd = mulberry32(42);
  const tasks = Array.from({ length: N }, (_, i) => {
    const deps = i >= 50 ? [`T${Math.floor(rnd() * i)}`] : [];
    return { id: `T${i}`, title: `Task number ${i}`, deps, target_files: [`src/mod${i % 97}/f${i}.ts`], command: ["true"] };
  });
  return { project: "bench", root: "./ws", orders: [{ id: "BIG", title: "A thousand tasks", tasks }] };
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]); // utime + stime, in clock ticks (100/s)
}

/** Reads an event stream; resolves `next()` with the next event name. */
async function eventStream(url: string): Promise<{ next(kind: string): Promise<void>; close(): void }> {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal });
  const reader = res.body!.getReader();
  const waiting: Array<{ kind: string; resolve: () => void }> = [];
  let buf = "";
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += Buffer.from(value).toString("utf8");
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (\S+)/m.exec(block)?.[1];
          const w = waiting.findIndex((x) => x.kind === ev);
          if (w >= 0) waiting.splice(w, 1)[0]!.resolve();
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    next: (kind) => new Promise<void>((resolve) => waiting.push({ kind, resolve })),
    close: () => ctrl.abort(),
  };
}

export const dashboardBench: Suite = {
  name: "dashboard",
  description: "the dashboard: order page of 1,000 tasks, change-to-page latency, idle CPU",
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), "aipm-bench-dash-"));
    const db = join(dir, "aipm.db");
    const store = await openStore({ db, env: {} });
    importPlan(store, plan(), dir);
    const now = Date.now();
    store.sqlite.transaction(() => {
      const s = store.sqlite;
      const set = s.prepare("UPDATE tasks SET status = ?, attempt = 1, started_at = ?, finished_at = ? WHERE id = ?");
      for (let i = 0; i < 300; i++) set.run("DONE", now - 60_000, now - 30_000, `T${i}`);
      for (let i = 300; i < 320; i++) set.run("FAILED", now - 60_000, now - 30_000, `T${i}`);
      for (let i = 320; i < 328; i++) {
        set.run("IN_PROGRESS", now - 20_000, null, `T${i}`);
        s.prepare("UPDATE tasks SET progress_done = 3, progress_total = 10 WHERE id = ?").run(`T${i}`);
        s.prepare("INSERT INTO locks (project_id, task_id, path, acquired_at) VALUES ('bench', ?, ?, ?)").run(`T${i}`, `src/mod${i % 97}/f${i}.ts`, now);
      }
    })();
    const bin = join(packageRoot(), "dist", "src", "cli", "main.js");
    const child = spawn(process.execPath, [bin, "--db", db, "--json", "dashboard", "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, AIPM_ENABLE_MONITORING: "true" },
    });
    const results: Result[] = [];
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString("utf8");
          const m = /"url":\s*"([^"]+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", () => reject(new Error("the dashboard exited")));
      });
      const page = `${url}orders/bench/BIG`;
      ctx.log(`dashboard: ${page}`);
      await (await fetch(page)).text(); // warm-up
      const pageMs: number[] = [];
      let size = 0;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        const html = await (await fetch(page)).text();
        pageMs.push(performance.now() - t0);
        size = html.length;
      }
      results.push({ name: "order page, 1,000 tasks (GET /orders/P/O)", value: median(pageMs), unit: "ms", target: 200, note: `median of 15, ${Math.round(size / 1024)} KiB of HTML` });

      const events = await eventStream(`${url}api/events`);
      const changeMs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const seen = events.next("change");
        const t0 = performance.now();
        store.sqlite.prepare("UPDATE tasks SET progress_done = ? WHERE id = 'T320'").run(4 + i);
        await seen;
        await (await fetch(`${page}?fragment=order`)).text();
        changeMs.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 300));
      }
      results.push({ name: "status change -> open page updated (event + fragment)", value: median(changeMs), unit: "ms", target: 1000, note: "median of 7" });

      await new Promise((r) => setTimeout(r, 1000));
      const t0 = performance.now();
      const c0 = cpuTicks(child.pid!);
      await new Promise((r) => setTimeout(r, 10_000));
      const pct = ((cpuTicks(child.pid!) - c0) / 100 / ((performance.now() - t0) / 1000)) * 100;
      results.push({ name: "server CPU, idle with one page open", value: Math.round(pct * 100) / 100, unit: "%", target: 2, note: "over 10 s, resource sampling every 5 s included" });
      events.close();
    } finally {
      child.kill("SIGTERM");
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    for (const r of results) r.pass = r.value < r.target!;
    return results;
  },
};
