import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, store } from "./helpers.js";
import { importPlan } from "../src/plan/import-plan.js";
import { claim, failStart, finish, recordSpawn, retry, rollbackSpawn, startReview, MAX_FREE_RETRIES, MAX_START_TRIES, type ClaimInput } from "../src/store/transitions.js";
import { concludeReview } from "../src/runtime/review-task.js";
import { acquireLease, leaseHolder, releaseLease } from "../src/runtime/lease.js";
import { classifyEnd } from "../src/runtime/attempt-end.js";
import { exitFileFor, parseExitFile, wrapperArgv } from "../worker/task-wrapper.js";
import { expandTemplate, taskCommand, DEFAULT_AGENT_CMD } from "../src/runtime/task-command.js";

let clock = 1_000_000;
async function project() {
  const dir = tempDir();
  const s = await store(join(dir, "aipm.db"));
  (s as { now: () => number }).now = () => clock;
  importPlan(
    s,
    {
      project: "p",
      orders: [
        {
          id: "O",
          tasks: [
            { id: "A", target_files: ["src/a.ts"], command: ["true"], max_attempts: 2 },
            { id: "B", deps: ["A"], target_files: ["src/b.ts"], command: ["true"] },
            { id: "C", target_files: ["src"], command: ["true"] },
          ],
        },
      ],
    },
    dir,
  );
  return s;
}

const claimOf = (task: string, extra: Partial<ClaimInput> = {}): ClaimInput => ({
  project: "p",
  task,
  effectiveWorkers: 5,
  logPath: (n) => `/tmp/${task}/${n}.log`,
  ownerPid: process.pid,
  ownerStart: null,
  ...extra,
});

const row = (s: Awaited<ReturnType<typeof project>>, id: string) =>
  s.conn.prepare("SELECT status, attempt, spent_attempts, retry_at, error, failure_kind FROM tasks WHERE id = ?").get(id) as {
    status: string;
    attempt: number;
    spent_attempts: number;
    retry_at: number | null;
    error: string | null;
    failure_kind: string | null;
  };
const locks = (s: Awaited<ReturnType<typeof project>>) =>
  s.conn.prepare("SELECT task_id, path FROM locks ORDER BY task_id, path").all();

describe("transitions", () => {
  it("claim re-checks dependencies, locks, capacity and status, and takes the locks", async () => {
    const s = await project();
    expect(claim(s, claimOf("B"))).toEqual({ ok: false, reason: "dependency", waiting_for: ["A"] });
    expect(claim(s, claimOf("A", { effectiveWorkers: 0 }))).toMatchObject({ ok: false, reason: "capacity" });
    expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: 1, targetFiles: ["src/a.ts"] });
    expect(locks(s)).toEqual([{ task_id: "A", path: "src/a.ts" }]);
    expect(claim(s, claimOf("A"))).toEqual({ ok: false, reason: "not_queued", status: "IN_PROGRESS" });
    expect(claim(s, claimOf("C"))).toEqual({ ok: false, reason: "file_conflict", file: "src/a.ts", held_by: "A" });
    expect(claim(s, claimOf("C", { effectiveWorkers: 1, ignoreCapacity: true }))).toMatchObject({ reason: "file_conflict" });
  });

  it("finish is guarded by status and attempt: a second end of the same attempt changes nothing", async () => {
    const s = await project();
    claim(s, claimOf("A"));
    expect(recordSpawn(s, { project: "p", order: "O", task: "A", attempt: 1, pid: 4242, procStart: "1" })).toBe(true);
    const end = { kind: "success", exitCode: 0 } as const;
    expect(finish(s, { project: "p", task: "A", attempt: 1, end, backoffS: 1 })).toMatchObject({ ok: true, status: "DONE" });
    expect(locks(s)).toEqual([]);
    expect(finish(s, { project: "p", task: "A", attempt: 1, end, backoffS: 1 })).toEqual({ ok: false, status: "DONE" });
    expect(finish(s, { project: "p", task: "A", attempt: 2, end, backoffS: 1 })).toMatchObject({ ok: false });
  });

  it("a rate-limited attempt is given back and waits for its reset — up to MAX_FREE_RETRIES times, then it counts", async () => {
    const s = await project();
    const limited = (retryAt: number) =>
      ({ kind: "failed", exitCode: 1, signal: null, error: "usage limit", failureKind: "rate_limit", retry: "free", retryAt }) as const;
    for (let i = 1; i <= MAX_FREE_RETRIES; i++) {
      expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: i });
      expect(finish(s, { project: "p", task: "A", attempt: i, end: limited(clock + 60_000), backoffS: 1 })).toEqual({
        ok: true,
        status: "QUEUED",
        retryAt: clock + 60_000,
      });
      expect(row(s, "A")).toMatchObject({ spent_attempts: 0 });
      expect(claim(s, claimOf("A"))).toMatchObject({ ok: false, reason: "backoff" });
      clock += 60_000;
    }
    claim(s, claimOf("A"));
    const r = finish(s, { project: "p", task: "A", attempt: MAX_FREE_RETRIES + 1, end: limited(clock + 60_000), backoffS: 1 });
    expect(r).toMatchObject({ ok: true, status: "QUEUED", retryAt: clock + 1000 });
    expect(row(s, "A")).toMatchObject({ spent_attempts: 1 });
    const kinds = s.conn.prepare("SELECT kind, COUNT(*) AS n FROM events WHERE task_id = 'A' GROUP BY kind ORDER BY kind").all();
    expect(kinds).toEqual([
      { kind: "task_rate_limited", n: MAX_FREE_RETRIES },
      { kind: "task_retry", n: 1 },
    ]);
  });

  it("a review without a verdict seen by two observers runs again once; the second observer changes nothing", async () => {
    const dir = tempDir();
    const s = await store(join(dir, "aipm.db"));
    importPlan(s, { project: "p", orders: [{ id: "O", tasks: [{ id: "R", command: ["true"], review: true, target_files: ["r.txt"] }] }] }, dir);
    expect(claim(s, claimOf("R"))).toMatchObject({ ok: true, attempt: 1 });
    expect(finish(s, { project: "p", task: "R", attempt: 1, end: { kind: "success", exitCode: 0 }, backoffS: 1 })).toMatchObject({ status: "REVIEW" });
    const log = join(dir, "1.review-1.log");
    writeFileSync(log, "cannot judge\n");
    writeFileSync(join(dir, "1.review-1.exit"), "75\n");
    expect(startReview(s, { project: "p", task: "R", attempt: 1, pid: 999_999, procStart: null, logPath: log, ownerStart: null })).toBe(true);
    const end = { project: "p", task: "R", attempt: 1, pid: 999_999, logPath: log, exitCode: 75, lost: false, backoffS: 0.1 };
    expect(concludeReview(s, end)).toMatchObject({ ok: false, status: "REVIEW", rerun: true });
    expect(concludeReview(s, end)).toEqual({ ok: false, status: "REVIEW" });
    const t = s.conn.prepare("SELECT t.status, r.review_runs, r.review_pid FROM tasks t JOIN runs r ON r.task_id = t.id").get();
    expect(t).toEqual({ status: "REVIEW", review_runs: 1, review_pid: null });
    expect(s.conn.prepare("SELECT path FROM locks").pluck().all()).toEqual(["r.txt"]);
    s.close();
  });

  it("a failure retries after a doubling backoff while attempts remain, then FAILED; retry gives fresh attempts", async () => {
    const s = await project();
    const fail = { kind: "failed", exitCode: 3, signal: null, error: "exit code 3", failureKind: "exit_code" } as const;
    claim(s, claimOf("A"));
    expect(finish(s, { project: "p", task: "A", attempt: 1, end: fail, backoffS: 2 })).toEqual({
      ok: true,
      status: "QUEUED",
      retryAt: clock + 2000,
    });
    expect(locks(s)).toEqual([]);
    expect(claim(s, claimOf("A"))).toMatchObject({ ok: false, reason: "backoff" });
    clock += 2000;
    expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: 2 });
    expect(finish(s, { project: "p", task: "A", attempt: 2, end: fail, backoffS: 2 })).toMatchObject({ status: "FAILED" });
    expect(row(s, "A")).toMatchObject({ status: "FAILED", attempt: 2, spent_attempts: 2, error: "exit code 3", failure_kind: "exit_code" });
    expect(retry(s, "p", "A")).toBe(true);
    expect(row(s, "A")).toMatchObject({ status: "QUEUED", attempt: 2, spent_attempts: 0 });
    // Attempt numbers keep growing, so every attempt keeps its own run row and log.
    expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: 3 });
    expect(retry(s, "p", "B")).toBe(false);
  });

  it("the backoff doubles with each spent attempt", async () => {
    const s = await project();
    s.conn.prepare("UPDATE tasks SET max_attempts = 5 WHERE id = 'A'").run();
    const fail = { kind: "failed", exitCode: 1, signal: null, error: "x", failureKind: "exit_code" } as const;
    const delays: number[] = [];
    for (let n = 1; n <= 3; n++) {
      claim(s, claimOf("A"));
      const r = finish(s, { project: "p", task: "A", attempt: n, end: fail, backoffS: 1 });
      delays.push((r as { retryAt: number }).retryAt - clock);
      clock = (r as { retryAt: number }).retryAt;
    }
    expect(delays).toEqual([1000, 2000, 4000]);
  });

  it("rollbackSpawn returns the task to QUEUED, releases its locks and does not count the attempt", async () => {
    const s = await project();
    claim(s, claimOf("A"));
    expect(rollbackSpawn(s, { project: "p", order: "O", task: "A", attempt: 1, error: "spawn ENOENT: nope" })).toBe(true);
    expect(row(s, "A")).toMatchObject({ status: "QUEUED", attempt: 1, spent_attempts: 0, error: "spawn ENOENT: nope" });
    expect(locks(s)).toEqual([]);
    expect(s.conn.prepare("SELECT outcome FROM runs WHERE task_id = 'A'").pluck().all()).toEqual(["spawn_failed"]);
    expect(claim(s, claimOf("A"))).toMatchObject({ ok: true, attempt: 2 });
  });

  it("failStart: a permanent failure FAILS at once; a transient one backs off and FAILS at the 5th in a row; retry starts over", async () => {
    const s = await project();
    let clock = 1_000_000;
    (s as { now: () => number }).now = () => clock;
    claim(s, claimOf("A"));
    expect(failStart(s, { project: "p", order: "O", task: "A", attempt: 1, error: "spawn ENOENT: nope", permanent: true })).toEqual({
      ok: true,
      status: "FAILED",
      retryAt: null,
    });
    expect(row(s, "A")).toMatchObject({ status: "FAILED", failure_kind: "start_failed", error: "spawn ENOENT: nope" });
    expect(locks(s)).toEqual([]);
    // A second observer changes nothing.
    expect(failStart(s, { project: "p", order: "O", task: "A", attempt: 1, error: "x", permanent: true })).toEqual({ ok: false });

    retry(s, "p", "A");
    clock += 1000;
    const delays: number[] = [];
    for (let n = 1; n <= MAX_START_TRIES; n++) {
      const c = claim(s, claimOf("A"));
      expect(c).toMatchObject({ ok: true });
      const r = failStart(s, { project: "p", order: "O", task: "A", attempt: (c as { attempt: number }).attempt, error: "spawn EAGAIN", permanent: false });
      if (n < MAX_START_TRIES) {
        expect(r).toMatchObject({ ok: true, status: "QUEUED" });
        delays.push((r as { retryAt: number }).retryAt - clock);
        expect(row(s, "A")).toMatchObject({ status: "QUEUED", spent_attempts: 0, failure_kind: "start_failed" });
        clock = (r as { retryAt: number }).retryAt;
      } else {
        expect(r).toEqual({ ok: true, status: "FAILED", retryAt: null });
      }
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    const kinds = s.conn.prepare("SELECT kind FROM events WHERE task_id = 'A' AND kind IN ('task_failed', 'task_retry') ORDER BY id").pluck().all();
    expect(kinds).toEqual(["task_failed", "task_retry", "task_retry", "task_retry", "task_retry", "task_failed"]);
    s.close();
  });

  it("a kill ends the attempt as CANCELLED, or QUEUED with requeue, never as a failure to retry", async () => {
    const s = await project();
    claim(s, claimOf("A"));
    const killed = { kind: "killed", request: "cancel", exitCode: null, signal: "SIGTERM" } as const;
    expect(finish(s, { project: "p", task: "A", attempt: 1, end: killed, backoffS: 1 })).toMatchObject({ status: "CANCELLED" });
    retry(s, "p", "A");
    claim(s, claimOf("A"));
    const requeue = { ...killed, request: "requeue" } as const;
    expect(finish(s, { project: "p", task: "A", attempt: 2, end: requeue, backoffS: 1 })).toEqual({
      ok: true,
      status: "QUEUED",
      retryAt: null,
    });
  });
});

describe("attempt ends", () => {
  it("classifies what was observed", () => {
    const base = { exitCode: null, signal: null, vanished: false, killedFor: null, killRequest: null } as const;
    expect(classifyEnd({ ...base, exitCode: 0 })).toEqual({ kind: "success", exitCode: 0 });
    expect(classifyEnd({ ...base, exitCode: 2 })).toMatchObject({ kind: "failed", failureKind: "exit_code", error: "exit code 2" });
    expect(classifyEnd({ ...base, exitCode: 137 })).toMatchObject({ failureKind: "exit_code", error: "exit code 137 (signal 9)" });
    expect(classifyEnd({ ...base, signal: "SIGKILL" })).toMatchObject({ failureKind: "signal", error: "killed by SIGKILL" });
    expect(classifyEnd({ ...base, vanished: true })).toMatchObject({ failureKind: "crashed" });
    expect(classifyEnd({ ...base, signal: "SIGTERM", killedFor: "timeout", timeoutS: 3 })).toMatchObject({ failureKind: "timeout" });
    expect(classifyEnd({ ...base, signal: "SIGTERM", killedFor: "stalled" })).toMatchObject({ failureKind: "stalled" });
    expect(classifyEnd({ ...base, exitCode: 0, killRequest: "cancel" })).toMatchObject({ kind: "killed", request: "cancel" });
  });
});

describe("the task wrapper", () => {
  it("runs argv untouched, appends its output to the log and writes the status to the exit file", () => {
    const dir = tempDir();
    const log = join(dir, "1.log");
    const tricky = "$(touch pwned); `x` \"q\" ';'";
    const r = spawnSync("/bin/sh", wrapperArgv(log, null, ["sh", "-c", 'printf "%s\\n" "$1"; exit 7', "x", tricky]), { cwd: dir });
    expect(r.status).toBe(7);
    expect(readFileSync(log, "utf8")).toBe(`${tricky}\n`);
    expect(exitFileFor(log)).toBe(join(dir, "1.exit"));
    expect(readFileSync(join(dir, "1.exit"), "utf8")).toBe("7\n");
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });

  it("takes only a complete exit file as a status", () => {
    expect(parseExitFile("0\n")).toBe(0);
    expect(parseExitFile("137\n")).toBe(137);
    expect(parseExitFile("")).toBeNull();
    expect(parseExitFile("1")).toBeNull();
    expect(parseExitFile("[aipm] exit status 0\n")).toBeNull();
  });
});

describe("agent command", () => {
  const values = { prompt: "do it", model: "sonnet", task: "T1", order: "O", project: "p" };
  it("replaces placeholders inside arguments and sends the prompt on stdin unless placed", () => {
    expect(expandTemplate(DEFAULT_AGENT_CMD, values)).toEqual({
      argv: ["claude", "-p", "--output-format", "stream-json", "--verbose", "--model", "sonnet"],
      promptPlaced: false,
    });
    expect(expandTemplate(["agent", "--task={task}", "{prompt}"], values)).toEqual({
      argv: ["agent", "--task=T1", "do it"],
      promptPlaced: true,
    });
    expect(expandTemplate(DEFAULT_AGENT_CMD, { ...values, model: null }).argv).toEqual([
      "claude",
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
    ]);
  });

  it("uses $AIPM_AGENT_CMD, and command tasks run their argv or /bin/sh -c", () => {
    const env = { AIPM_AGENT_CMD: '["fake-agent","--model","{model}"]' };
    expect(taskCommand({ project: "p", order: "O", task: "T", command: null, prompt: "hi", model: "m" }, env)).toEqual({
      argv: ["fake-agent", "--model", "m"],
      stdin: "hi",
    });
    expect(taskCommand({ project: "p", order: "O", task: "T", command: '["npm","test"]', prompt: null, model: null }, {})).toEqual({
      argv: ["npm", "test"],
      stdin: null,
    });
    expect(taskCommand({ project: "p", order: "O", task: "T", command: '"make all"', prompt: null, model: null }, {}).argv).toEqual([
      "/bin/sh",
      "-c",
      "make all",
    ]);
    expect(() => taskCommand({ project: "p", order: "O", task: "T", command: null, prompt: "x", model: null }, { AIPM_AGENT_CMD: "claude -p" })).toThrow(
      /AIPM_AGENT_CMD/,
    );
  });
});

describe("supervisor lease", () => {
  it("is held by one live process per host and taken over at once from a dead one", async () => {
    const s = await project();
    const dead = spawnSync("true").pid!; // a pid that has exited
    s.conn
      .prepare("INSERT INTO supervisors (project_id, host, pid, proc_start, started_at, heartbeat_at) VALUES ('p', 'h1', ?, 'x', 0, 0)")
      .run(dead);
    expect(leaseHolder(s, "p", "h1")).toBeNull();
    expect(acquireLease(s, "p", "h1")).toBe(true);
    expect(leaseHolder(s, "p", "h1")).toBe(process.pid);
    // Another live process cannot take it (pid 1 is alive; its start time is checked too).
    const init = readFileSync("/proc/1/stat", "utf8");
    const initStart = init.slice(init.lastIndexOf(")") + 2).split(" ")[19];
    s.conn.prepare("UPDATE supervisors SET pid = 1, proc_start = ? WHERE project_id = 'p'").run(initStart);
    expect(acquireLease(s, "p", "h1")).toBe(false);
    // Same pid, other start time: a reused pid does not hold the lease.
    s.conn.prepare("UPDATE supervisors SET proc_start = 'not-the-same' WHERE project_id = 'p'").run();
    expect(acquireLease(s, "p", "h1")).toBe(true);
    // Another host's lease is its own: held by pid 1 there, this host takes its own all the same.
    s.conn.prepare("UPDATE supervisors SET pid = 1, proc_start = ? WHERE project_id = 'p'").run(initStart);
    expect(acquireLease(s, "p", "h2")).toBe(true);
    expect(leaseHolder(s, "p", "h2")).toBe(process.pid);
    expect(leaseHolder(s, "p", "h1")).toBe(1);
    releaseLease(s, "p", "h2");
    expect(leaseHolder(s, "p", "h2")).toBeNull();
  });
});
