/**
 * Issue 11, item 8: an attempt's log keeps at most AIPM_LOG_MAX_MB (its
 * beginning, its end and a line saying how much was dropped between), the
 * supervisor's memory stays flat under any output volume, and `aipm logs`
 * streams a big log's end with a notice.
 */
import { describe, expect, it } from "vitest";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.js";
import { capLog } from "../src/runtime/log-cap.js";
import { aipm, importPlan, logPath, setup, start, waitFor } from "./runtime-helpers.js";

const MB = 1024 * 1024;

describe("capLog", () => {
  it("keeps the head and the tail at line boundaries, with one marker that counts every byte dropped", () => {
    const path = join(tempDir(), "1.log");
    const line = (i: number) => `line ${String(i).padStart(6, "0")} ${"x".repeat(50)}\n`;
    let text = "";
    for (let i = 0; i < 2000; i++) text += line(i);
    writeFileSync(path, text);
    const max = 32 * 1024;
    expect(capLog(path, 10 * max)).toBeNull();
    const first = capLog(path, max)!;
    const after = readFileSync(path, "utf8");
    expect(after.length).toBe(first.size);
    expect(first.size).toBeLessThanOrEqual(max);
    expect(after.startsWith(line(0))).toBe(true);
    expect(after.endsWith(line(1999))).toBe(true);
    const markers = after.split("\n").filter((l) => l.startsWith("[aipm] "));
    expect(markers).toEqual([`[aipm] ${first.dropped} bytes of output dropped here (AIPM_LOG_MAX_MB=0.031)`]);
    // Every kept line is whole, and the dropped count is exact.
    const kept = after.split("\n").filter((l) => l.startsWith("line "));
    expect(kept.every((l) => l.length === line(0).length - 1)).toBe(true);
    expect(text.length - first.dropped).toBe(after.length - markers[0]!.length - 1);

    // More output, a second compaction: still one marker, the count goes on.
    let more = "";
    for (let i = 2000; i < 3000; i++) more += line(i);
    appendFileSync(path, more);
    const second = capLog(path, max)!;
    const again = readFileSync(path, "utf8");
    expect(again.split("\n").filter((l) => l.startsWith("[aipm] "))).toEqual([`[aipm] ${second.dropped} bytes of output dropped here (AIPM_LOG_MAX_MB=0.031)`]);
    expect(again.startsWith(line(0))).toBe(true);
    expect(again.endsWith(line(2999))).toBe(true);
    expect(text.length + more.length - second.dropped).toBe(again.length - (`[aipm] ${second.dropped} bytes of output dropped here (AIPM_LOG_MAX_MB=0.031)`.length + 1));
  });
});

function rssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

describe("a task printing 1 GB", () => {
  it("its log is capped (head, marker, tail), the supervisor's RSS stays under 150 MB, aipm logs shows the end with a notice", async () => {
    const ctx = setup();
    await importPlan(ctx, {
      project: "demo",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "BIG", command: ["sh", "-c", "echo first-line; yes | head -c 1073741824; echo; echo last-line"] }] }],
    });
    const sup = start(ctx, ["--json", "parallel-launch", "demo", "O1", "--wait", "--timeout", "120"]);
    const pid = sup.child.pid!;
    let maxRss = 0;
    let finished = false;
    void sup.done.then(() => (finished = true));
    await waitFor(
      () => {
        const kb = rssKb(pid);
        if (kb !== null) maxRss = Math.max(maxRss, kb);
        return finished;
      },
      { timeoutMs: 150_000, intervalMs: 100, what: "the order to finish" },
    );
    const r = await sup.done;
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    console.log(`1 GB of output: supervisor max RSS ${(maxRss / 1024).toFixed(1)} MB`);
    expect(maxRss / 1024, "supervisor RSS (MB)").toBeLessThan(150);
    const log = logPath(ctx, "demo", "BIG", 1);
    const size = statSync(log).size;
    console.log(`log size after 1 GB of output: ${(size / MB).toFixed(1)} MB`);
    expect(size).toBeLessThanOrEqual(64 * MB);
    const head = readFileSync(log, { encoding: "latin1" }).slice(0, 64);
    expect(head.startsWith("first-line\ny\ny\n")).toBe(true);
    const logs = await aipm(ctx, ["logs", "BIG"]);
    expect(logs.code).toBe(0);
    expect(logs.stderr).toMatch(/^aipm: the log is \d+\.\d MB; showing its last 8\.0 MB/);
    expect(logs.stdout.length).toBeLessThanOrEqual(8 * MB);
    expect(logs.stdout.endsWith("y\n\nlast-line\n")).toBe(true);
    const whole = readFileSync(log, "latin1");
    expect(whole).toMatch(/\n\[aipm\] \d+ bytes of output dropped here \(AIPM_LOG_MAX_MB=64\)\n/);
  }, 180_000);
});
