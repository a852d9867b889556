/**
 * Issue 11, item 11: every AIPM_* setting is validated with its unit and range
 * when a command starts: exit 2, one line naming the variable, nothing
 * written. The table in src/config/settings.ts is the list, and
 * docs/operations.md#settings shows the same one.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { bin, cli, tempDir, REPO } from "./helpers.js";
import { SETTINGS, checkSettings } from "../src/config/settings.js";
import { resolveRuntimeOptions } from "../src/config/runtime-options.js";

const bad: Array<[string, string, RegExp]> = [
  ["AIPM_POLL_MS", "1e12", /^aipm: AIPM_POLL_MS: expected a number of milliseconds from 10 to 60000, got '1e12'$/],
  ["AIPM_POLL_MS", "1", /AIPM_POLL_MS: expected a number of milliseconds from 10/],
  ["AIPM_QUEUE_WORKERS", "abc", /^aipm: AIPM_QUEUE_WORKERS: expected a whole number of commands from 1 to 1000, got 'abc'$/],
  ["AIPM_QUEUE_WORKERS", "1.5", /AIPM_QUEUE_WORKERS: expected a whole number/],
  ["AIPM_AGENT_CMD", '[""]', /^aipm: AIPM_AGENT_CMD: the program \(first element\) is empty$/],
  ["AIPM_REVIEW_CMD", "[]", /AIPM_REVIEW_CMD: expected a non-empty JSON array of strings/],
  ["AIPM_NOTIFY_CMD", "notify-me", /AIPM_NOTIFY_CMD: expected a JSON argv array/],
  ["AIPM_MAX_WORKERS", "0", /AIPM_MAX_WORKERS: expected a whole number of tasks from 1 to 1000/],
  ["AIPM_MAX_WORKERS", "1e6", /AIPM_MAX_WORKERS: /],
  ["AIPM_MAX_CPU_PERCENT", "150", /AIPM_MAX_CPU_PERCENT: expected a number of percent above 0 and up to 100/],
  ["AIPM_STALL_KILL_S", "-1", /AIPM_STALL_KILL_S: expected a number of seconds from 0.01 to 604800/],
  ["AIPM_STALL_WARN_S", "Infinity", /AIPM_STALL_WARN_S: /],
  ["AIPM_KILL_GRACE_S", "1e9", /AIPM_KILL_GRACE_S: expected a number of seconds from 0 to 3600/],
  ["AIPM_RETRY_BACKOFF_S", "NaN", /AIPM_RETRY_BACKOFF_S: /],
  ["AIPM_RATE_LIMIT_WAIT_S", "5d", /AIPM_RATE_LIMIT_WAIT_S: /],
  ["AIPM_NOTIFY_BACKOFF_S", "-3", /AIPM_NOTIFY_BACKOFF_S: /],
  ["AIPM_ALARM_AFTER_S", "0x10000000", /AIPM_ALARM_AFTER_S: /],
  ["AIPM_LOG_MAX_MB", "0", /AIPM_LOG_MAX_MB: expected a number of megabytes from 0.016 to 1048576/],
  ["AIPM_ENABLE_MONITORING", "maybe", /AIPM_ENABLE_MONITORING: expected true or false/],
  ["AIPM_ENABLE_AUTO_SCALING", "2", /AIPM_ENABLE_AUTO_SCALING: expected true or false/],
  ["AIPM_SCOPE", "strict", /AIPM_SCOPE: expected warn, fail or off/],
  ["AIPM_WEBHOOK_URL", "ftp://example.com", /AIPM_WEBHOOK_URL: expected an http\(s\) URL/],
  ["AIPM_HOST", "my host", /^aipm: AIPM_HOST: expected a name of letters, digits, '\.', '_' or '-' \(at most 64\), got 'my host'$/],
  ["AIPM_HOST", "h".repeat(65), /AIPM_HOST: expected a name/],
  ["AIPM_HOST_LABELS", "gpu,,big", /^aipm: AIPM_HOST_LABELS: expected names of letters, digits, '\.', '_' or '-' \(at most 64\) separated by commas, got 'gpu,,big'$/],
  ["AIPM_HOST_LABELS", "gpu;big", /AIPM_HOST_LABELS: expected names/],
  ["AIPM_HOST_LEASE_S", "0.5", /^aipm: AIPM_HOST_LEASE_S: expected a number of seconds from 1 to 86400, got '0.5'$/],
  ["AIPM_GIT_SYNC", "yes", /^aipm: AIPM_GIT_SYNC: expected auto, on or off, got 'yes'$/],
  ["AIPM_GIT_REMOTE", "-upload-pack=x", /^aipm: AIPM_GIT_REMOTE: expected a git remote's name/],
  ["AIPM_PUSHOVER_TOKEN", "tok", /Pushover needs both AIPM_PUSHOVER_TOKEN and AIPM_PUSHOVER_USER/],
];

describe("AIPM_* settings", () => {
  it("each bad value is exit 2 with one line naming the variable, before anything is written (real processes)", () => {
    const dir = tempDir();
    for (const [name, value, message] of bad) {
      for (const args of [["status"], ["enqueue", "j", "--", "true"], ["notify", "test"]]) {
        const r = bin(args, { cwd: dir, env: { [name]: value } });
        expect({ name, value, args, code: r.code }).toEqual({ name, value, args, code: 2 });
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
      }
    }
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  it("good values and defaults", async () => {
    expect(() => checkSettings({ AIPM_POLL_MS: "50", AIPM_QUEUE_WORKERS: "2", AIPM_AGENT_CMD: '["claude","-p"]', AIPM_MAX_CPU_PERCENT: "90.5", AIPM_ENABLE_MONITORING: "off", AIPM_SCOPE: "FAIL", AIPM_STALL_KILL_S: " ", AIPM_GIT_SYNC: "ON", AIPM_GIT_REMOTE: "upstream" })).not.toThrow();
    expect(resolveRuntimeOptions({})).toEqual({ backoffS: 5, stallWarnS: [300], stallKillS: 900, killGraceS: 5, pollMs: 100, rateLimitWaitS: 300, resultGraceS: 10, transientMaxS: 3600, transientBackoffMaxS: 300 });
    expect(resolveRuntimeOptions({ AIPM_POLL_MS: "250" }).pollMs).toBe(250);
    const dir = tempDir();
    const r = await cli(["--json", "status"], { cwd: dir, env: { AIPM_QUEUE_WORKERS: "3", AIPM_POLL_MS: "20" } });
    expect(r.code).toBe(0);
  });

  it("every AIPM_* variable the code reads as a setting is in the table, and docs/operations.md lists the table", () => {
    // Variables aipm sets for its workers, or that are not numbers/templates to validate.
    const notSettings = new Set(["AIPM_DB", "AIPM_DEBUG", "AIPM_PROJECT", "AIPM_ORDER", "AIPM_TASK", "AIPM_ATTEMPT", "AIPM_TARGET_FILES", "AIPM_REVIEW", "AIPM_PROGRESS", "AIPM_STATE_DIR", "AIPM_RESUME", "AIPM_AGENT_SETTINGS"]);
    const read = new Set<string>();
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) {
          const text = readFileSync(p, "utf8");
          for (const m of text.matchAll(/(?:env(?:\.|\[")|setting\(\w+, "|Setting\(\w+, ")(AIPM_[A-Z_]+)/g)) read.add(m[1]!);
        }
      }
    };
    walk(join(REPO, "src"));
    walk(join(REPO, "worker"));
    const unknown = [...read].filter((n) => !(n in SETTINGS) && !notSettings.has(n));
    expect(unknown).toEqual([]);
    const ops = readFileSync(join(REPO, "docs", "operations.md"), "utf8");
    const section = ops.slice(ops.indexOf("## Settings"));
    for (const name of Object.keys(SETTINGS)) expect({ name, documented: section.includes(name) }).toEqual({ name, documented: true });
  });
});
