/**
 * Notifications end to end: a real HTTP server on 127.0.0.1 plays Pushover
 * and a webhook; orders run through the built binary; what arrives is
 * counted. Also the command hook, retries (4xx final, 5xx retried), a dead
 * endpoint, stall escalation, the resource alarm and GPU failures.
 */
import { beatHost } from "../src/store/hosts.js";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { store } from "./helpers.js";
import { aipm, importPlan, readJson, setup, start, waitFor, type Ctx } from "./runtime-helpers.js";
import { ResourceAlarm } from "../src/notify/resource-alarm.js";
import { findGpuErrorIn } from "../src/resources/gpu-errors.js";
import { sendOnce } from "../src/notify/send.js";
import { toNotification } from "../src/notify/notification.js";
import { NotifyDispatcher } from "../src/notify/dispatcher.js";

interface Received {
  path: string;
  contentType: string;
  body: string;
  form: Record<string, string>;
  json: any;
}

interface Endpoint {
  url: string;
  received: Received[];
  /** Answer for the next requests (status codes), then 200. */
  script: number[];
  /** While true, requests get no answer at all. */
  hang: boolean;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

async function endpoint(): Promise<Endpoint> {
  const ep: Endpoint = { url: "", received: [], script: [], hang: false, close: async () => {} };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const contentType = String(req.headers["content-type"] ?? "");
    ep.received.push({
      path: req.url ?? "",
      contentType,
      body,
      form: contentType.includes("form") ? Object.fromEntries(new URLSearchParams(body)) : {},
      json: contentType.includes("json") ? JSON.parse(body) : null,
    });
    if (ep.hang) return;
    const status = ep.script.shift() ?? 200;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(status === 200 ? '{"status":1}' : '{"status":0,"errors":["nope"]}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.on("close", () => server.closeAllConnections());
  const port = (server.address() as { port: number }).port;
  ep.url = `http://127.0.0.1:${port}`;
  ep.close = () => new Promise((r) => server.close(() => r()));
  return ep;
}

function notifyEnv(ep: Endpoint): Record<string, string> {
  return {
    AIPM_PUSHOVER_TOKEN: "tok",
    AIPM_PUSHOVER_USER: "usr",
    AIPM_PUSHOVER_URL: `${ep.url}/pushover`,
    AIPM_WEBHOOK_URL: `${ep.url}/hook`,
    AIPM_NOTIFY_BACKOFF_S: "0.05",
  };
}

const pushovers = (ep: Endpoint) => ep.received.filter((r) => r.path === "/pushover");
const hooks = (ep: Endpoint) => ep.received.filter((r) => r.path === "/hook");

async function dbRows(ctx: Ctx, sql: string): Promise<Array<Record<string, any>>> {
  const s = await store(ctx.db);
  try {
    return s.conn.prepare(sql).all() as Array<Record<string, any>>;
  } finally {
    s.close();
  }
}

/** A project with one `task_failed` event to notify, an endpoint that does not answer, and webhook settings for it. */
async function oneFailureToSend() {
  const ep = await endpoint();
  ep.hang = true;
  const ctx = setup();
  await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "T", command: ["true"] }] }] });
  const s = await store(ctx.db);
  s.conn.prepare("INSERT INTO events (ts, project_id, order_id, task_id, attempt, kind, data) VALUES (?, 'p', 'O1', 'T', 1, 'task_failed', '{}')").run(Date.now());
  const settings = { notifiers: [{ name: "webhook" as const, url: `${ep.url}/hook` }], backoffS: 0, tries: 4 };
  return { ep, s, settings };
}

describe("notifications", () => {
  it("a final failure is sent once per notifier, even with two aipm processes observing the order", async () => {
    const ep = await endpoint();
    const ctx = setup(notifyEnv(ep));
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "F", command: ["sh", "-c", "sleep 0.3; exit 3"], max_attempts: 2 },
            { id: "S", command: ["sleep", "1"] },
          ],
        },
      ],
    });
    const a = start(ctx, ["parallel-launch", "p", "O1", "--wait"]);
    const b = start(ctx, ["wait", "p", "O1"]);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, rb.code]).toEqual([1, 1]);
    // More processes looking afterwards send nothing again.
    await aipm(ctx, ["status", "p"]);
    await aipm(ctx, ["wait", "p", "O1"]);
    await waitFor(() => pushovers(ep).length >= 2 && hooks(ep).length >= 2, { what: "the failure and the order's end" });
    const failed = pushovers(ep).filter((r) => r.form.title!.startsWith("Task failed: F"));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.form).toMatchObject({ token: "tok", user: "usr", priority: "1" });
    expect(failed[0]!.form.message).toMatch(/F failed after attempt 2 \[exit_code\]: exit code 3/);
    const hooked = hooks(ep).filter((r) => r.json.kind === "task_failed");
    expect(hooked).toHaveLength(1);
    expect(hooked[0]!.json).toMatchObject({ project: "p", order: "O1", task: "F", attempt: 2, priority: 1, data: { failure_kind: "exit_code" } });
    expect(pushovers(ep).filter((r) => r.form.title!.startsWith("Order"))).toHaveLength(1);
    expect(hooks(ep).filter((r) => r.json.kind === "order_finished")).toHaveLength(1);
    // Nothing else: a retried failure (attempt 1) is not a final failure.
    expect(pushovers(ep)).toHaveLength(2);
    expect(hooks(ep)).toHaveLength(2);
    const deliveries = await dbRows(ctx, "SELECT notifier, state FROM deliveries ORDER BY id");
    expect(deliveries.every((d) => d.state === "sent")).toBe(true);
    expect(deliveries).toHaveLength(4);
  });

  it("stall warnings escalate: a warning, then the kill, then the final failure", async () => {
    const ep = await endpoint();
    const ctx = setup({ ...notifyEnv(ep), AIPM_STALL_WARN_S: "0.3", AIPM_STALL_KILL_S: "0.9" });
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "H", command: ["sleep", "30"], max_attempts: 1 }] }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);
    await waitFor(() => hooks(ep).length >= 4);
    // Sends run side by side: compare in the events' order, not the order of arrival.
    const byId = [...hooks(ep)].sort((a, b) => a.json.id - b.json.id);
    expect(byId.map((r) => [r.json.kind, r.json.priority])).toEqual([
      ["task_stall_warning", 0],
      ["task_stall_killed", 1],
      ["task_failed", 1],
      ["order_finished", 1],
    ]);
  });

  it("the command hook receives the event JSON on stdin", async () => {
    const ctx = setup();
    const out = join(ctx.dir, "hook.jsonl");
    ctx.env.AIPM_NOTIFY_CMD = JSON.stringify(["sh", "-c", 'cat >> "$0"', out]);
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "F", command: ["false"], max_attempts: 1 }] }] });
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);
    const read = () => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);
    await waitFor(() => read().length >= 2, { what: "both events" });
    // Sends run side by side: their order of arrival is not the events' order.
    const events = read().sort((a, b) => a.id - b.id);
    expect(events.map((e) => e.kind)).toEqual(["task_failed", "order_finished"]);
    expect(events[0]).toMatchObject({ task: "F", project: "p", order: "O1", attempt: 1, title: "Task failed: F (p/O1)" });
  });

  it("a dead endpoint changes no task's outcome; the failed delivery is recorded as an event", async () => {
    const ep = await endpoint();
    await ep.close();
    const ctx = setup({ AIPM_WEBHOOK_URL: `${ep.url}/hook`, AIPM_NOTIFY_BACKOFF_S: "0.02" });
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [{ id: "O1", tasks: [{ id: "F", command: ["false"], max_attempts: 1 }, { id: "D", command: ["true"] }] }],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O1", "--wait"]);
    expect(r.code).toBe(1);
    const s = await readJson(ctx, ["status", "p"]);
    expect(Object.fromEntries(s.tasks.map((t: any) => [t.task, t.status]))).toEqual({ F: "FAILED", D: "DONE" });
    const failedDeliveries = await dbRows(ctx, "SELECT state, attempts, last_error FROM deliveries");
    expect(failedDeliveries.length).toBeGreaterThan(0);
    for (const d of failedDeliveries) expect(d).toMatchObject({ state: "failed", attempts: 4, last_error: "ECONNREFUSED" });
    const events = await dbRows(ctx, "SELECT data FROM events WHERE kind = 'notify_failed'");
    expect(events.map((e) => JSON.parse(e.data).notifier)).toContain("webhook");
  });

  it("an endpoint that does not answer holds no command up; the message is sent by the next process that looks", async () => {
    const ep = await endpoint();
    ep.hang = true;
    const ctx = setup({ AIPM_WEBHOOK_URL: `${ep.url}/hook` });
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "F", command: ["false"], max_attempts: 1 }] }] });
    const t0 = Date.now();
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait"])).code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await dbRows(ctx, "SELECT state FROM deliveries")).map((d) => d.state)).toEqual(["sending", "sending"]);
    ep.hang = false;
    await aipm(ctx, ["status", "p"]);
    expect((await dbRows(ctx, "SELECT state FROM deliveries")).map((d) => d.state)).toEqual(["sent", "sent"]);
    const answered = hooks(ep).slice(2);
    expect(answered.map((r) => r.json.kind).sort()).toEqual(["order_finished", "task_failed"]);
  });

  it("a delivery abandoned by processes that exited is tried again by the next ones, but never more than 4 times in all", async () => {
    const { ep, s, settings } = await oneFailureToSend();
    try {
      for (let i = 0; i < 6; i++) {
        const d = new NotifyDispatcher(s, settings);
        d.pump();
        await d.drain(150);
        // The process that sent it exits: its delivery is left to the next one.
        s.conn.prepare("UPDATE deliveries SET owner_pid = 999999, owner_start = 'gone' WHERE state = 'sending'").run();
      }
      expect(hooks(ep)).toHaveLength(4);
      const [d] = s.conn.prepare("SELECT state, attempts, last_error FROM deliveries").all() as Array<Record<string, unknown>>;
      expect(d).toMatchObject({ state: "failed", attempts: 4 });
      expect(s.conn.prepare("SELECT COUNT(*) FROM events WHERE kind = 'notify_failed'").pluck().get()).toBe(1);
    } finally {
      s.close();
    }
  });

  it("a delivery being sent by another host's process is left to it while that host beats, and taken over once it is silent", async () => {
    const { ep, s, settings } = await oneFailureToSend();
    try {
      const here = { ...process.env, AIPM_HOST: "here", AIPM_HOST_LEASE_S: "60" };
      const first = new NotifyDispatcher(s, settings, here);
      first.pump();
      await first.drain(150);
      // Owned by a process of host h9 (its pid means nothing here: a pid that is dead on this host).
      s.conn.prepare("UPDATE deliveries SET owner_pid = 999999, owner_start = 'elsewhere', owner_host = 'h9' WHERE state = 'sending'").run();
      beatHost(s, { host: "h9", labels: [] });
      const next = new NotifyDispatcher(s, settings, here);
      expect(next.pump()).toBe(0); // h9 beats: its sender is alive, whatever its pid says here
      beatHost(s, { host: "h9", labels: [] }, Date.now() - 120_000);
      expect(next.pump()).toBe(1); // h9 silent past the lease: sent again from here
      await next.drain(150);
      expect(s.conn.prepare("SELECT owner_host FROM deliveries").pluck().get()).toBe("here");
    } finally {
      s.close();
    }
  });

  it("notify test: a 4xx answer is final, a 5xx answer is retried; each result reported", async () => {
    const ep = await endpoint();
    const ctx = setup(notifyEnv(ep));
    ep.script = [400];
    ctx.env.AIPM_WEBHOOK_URL = "";
    const bad = await aipm(ctx, ["--json", "notify", "test"], { noDb: true });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).results).toEqual([{ notifier: "pushover", ok: false, attempts: 1, status: 400, error: expect.stringMatching(/^HTTP 400/) }]);
    ep.script = [500, 503];
    const retried = await aipm(ctx, ["--json", "notify", "test"], { noDb: true });
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout).results).toEqual([{ notifier: "pushover", ok: true, attempts: 3, status: 200 }]);
    expect(pushovers(ep)).toHaveLength(4);
    expect(pushovers(ep)[3]!.form.title).toBe("aipm test notification");
    const none = await aipm(setup(), ["notify", "test"], { noDb: true });
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/no notifier configured/);
    const wrong = await aipm(setup({ AIPM_PUSHOVER_TOKEN: "x" }), ["status"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/AIPM_PUSHOVER_USER/);
  });

  it("Pushover's limits: title cut to 250 characters, message to 1024", async () => {
    const ep = await endpoint();
    const long = "x".repeat(3000);
    const n = toNotification({ id: 7, ts: Date.now(), project_id: "p", order_id: "O", task_id: long.slice(0, 400), attempt: 1, kind: "task_failed", data: JSON.stringify({ error: long }) })!;
    const r = await sendOnce({ name: "pushover", url: `${ep.url}/pushover`, token: "t", user: "u" }, n);
    expect(r.ok).toBe(true);
    expect(pushovers(ep)[0]!.form.title).toHaveLength(250);
    expect(pushovers(ep)[0]!.form.message).toHaveLength(1024);
  });
});

describe("resource alarm", () => {
  it("one alarm after the limit is exceeded long enough, one recovery, whoever watches", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "T", command: ["true"] }] }] });
    const s = await store(ctx.db);
    try {
      const limits = { maxCpu: 80, maxMemory: 80 };
      const sample = (t: number, cpu: number) => ({ cpuPercent: cpu, memoryPercent: 10, memTotalBytes: 1, memAvailableBytes: 1, takenAt: t });
      const a = new ResourceAlarm(s, 60);
      const b = new ResourceAlarm(s, 60);
      expect(a.feed(sample(0, 95), limits)).toBeNull();
      expect(b.feed(sample(1_000, 95), limits)).toBeNull();
      expect(a.feed(sample(59_000, 95), limits)).toBeNull();
      expect(a.feed(sample(61_000, 95), limits)).toBe("alarm");
      expect(b.feed(sample(62_000, 95), limits)).toBeNull(); // over for 61 s, but the alarm is raised already
      expect(a.feed(sample(120_000, 99), limits)).toBeNull();
      // Recovery too must last AIPM_ALARM_AFTER_S.
      expect(b.feed(sample(121_000, 50), limits)).toBeNull();
      expect(b.feed(sample(180_000, 50), limits)).toBeNull();
      expect(b.feed(sample(181_000, 50), limits)).toBe("recovered");
      expect(a.feed(sample(182_000, 50), limits)).toBeNull();
      const kinds = s.conn.prepare("SELECT kind, data FROM events WHERE kind LIKE 'resource_%' ORDER BY id").all() as Array<{ kind: string; data: string }>;
      expect(kinds.map((k) => k.kind)).toEqual(["resource_alarm", "resource_recovered"]);
      expect(JSON.parse(kinds[0]!.data)).toMatchObject({ cpu_percent: 95, max_cpu: 80, over_s: 61 });
    } finally {
      s.close();
    }
  });

  it("two watchers that disagree (other limits) change it at most once per period each way, not every second", async () => {
    const ctx = setup();
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "T", command: ["true"] }] }] });
    const s = await store(ctx.db);
    try {
      const sample = (t: number) => ({ cpuPercent: 85.5, memoryPercent: 10, memTotalBytes: 1, memAvailableBytes: 1, takenAt: t });
      const a = new ResourceAlarm(s, 60);
      const b = new ResourceAlarm(s, 60);
      for (let t = 0; t < 600_000; t += 1000) {
        a.feed(sample(t), { maxCpu: 85, maxMemory: 90 }); // over for a
        b.feed(sample(t + 500), { maxCpu: 86, maxMemory: 90 }); // under for b
      }
      const n = s.conn.prepare("SELECT COUNT(*) FROM events WHERE kind LIKE 'resource_%'").pluck().get() as number;
      expect(n).toBeLessThanOrEqual(10); // 600 s / 60 s, both ways
      expect(n).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });

  it("a supervisor measuring resources raises it and the webhook gets it once", async () => {
    const ep = await endpoint();
    const ctx = setup({ ...notifyEnv(ep), AIPM_ENABLE_MONITORING: "true", AIPM_ALARM_AFTER_S: "0" });
    await importPlan(ctx, { project: "p", root: "./ws", orders: [{ id: "O1", tasks: [{ id: "T", command: ["sleep", "2.5"] }] }] });
    // Memory is always above 0.1 %: over the limit from the first sample.
    expect((await aipm(ctx, ["parallel-launch", "p", "O1", "--wait", "--max-memory", "0.1"])).code).toBe(0);
    await waitFor(() => hooks(ep).some((r) => r.json.kind === "resource_alarm"));
    expect(hooks(ep).filter((r) => r.json.kind === "resource_alarm")).toHaveLength(1);
    expect(pushovers(ep).filter((r) => r.form.title === "Resources over the limit")).toHaveLength(1);
  });
});

describe("GPU failures", () => {
  it("recognises CUDA errors, device OOM and no device as errors, CPU fallbacks as warnings, and nothing else", () => {
    const errors = [
      "RuntimeError: CUDA error: out of memory",
      "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)",
      "RuntimeError: No CUDA GPUs are available\ncudaErrorNoDevice: no CUDA-capable device is detected",
      "CUDA driver version is insufficient for CUDA runtime version",
      "RuntimeError: CUDA error: device-side assert triggered",
      "RuntimeError: cuDNN error: CUDNN_STATUS_INTERNAL_ERROR",
      "NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1275, unhandled cuda error",
    ];
    for (const text of errors) expect(findGpuErrorIn(`epoch 1\n${text}\nTraceback`), text).toMatchObject({ hard: true });
    const fallbacks = [
      "UserWarning: CUDA initialization: Found no NVIDIA driver on your system.",
      "2026-01-01 W tensorflow/stream_executor/cuda/cuda_driver.cc:269] failed call to cuInit: UNKNOWN ERROR (303)",
      "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'",
    ];
    for (const text of fallbacks) expect(findGpuErrorIn(text), text).toMatchObject({ hard: false });
    // An error wins over a warning printed before it.
    expect(findGpuErrorIn(`${fallbacks[0]}\n${errors[0]}`)).toMatchObject({ hard: true, line: errors[0] });
    const fine = [
      "Using device: cuda:0\nepoch 1 loss 0.3",
      "nvidia-smi: GPU 0 utilization 87%",
      "CUBLAS_STATUS_SUCCESS",
      "kernel.cu(12): warning: variable of type cudaError_t was declared but never referenced",
      "out of memory (host): malloc failed",
      '{"type":"user","message":{"content":"RuntimeError: CUDA error: out of memory"}}',
    ];
    for (const text of fine) expect(findGpuErrorIn(text), text).toBeNull();
  });

  it("a task whose output shows a GPU failure fails at once as gpu_error, without retries, and notifies", async () => {
    const ep = await endpoint();
    const ctx = setup(notifyEnv(ep));
    await importPlan(ctx, {
      project: "p",
      root: "./ws",
      orders: [
        {
          id: "O1",
          tasks: [
            { id: "OOM", command: ["sh", "-c", "echo 'RuntimeError: CUDA error: out of memory' >&2; exit 1"], max_attempts: 3 },
            { id: "ASSERT", command: ["sh", "-c", "echo 'RuntimeError: CUDA error: device-side assert triggered'; exit 0"], max_attempts: 3 },
            { id: "NODRV", command: ["sh", "-c", "echo 'UserWarning: CUDA initialization: Found no NVIDIA driver on your system.'; exit 2"], max_attempts: 3 },
            { id: "CPU", command: ["sh", "-c", "echo 'UserWarning: CUDA initialization: Found no NVIDIA driver on your system.'; echo done"] },
          ],
        },
      ],
    });
    const r = await aipm(ctx, ["--json", "parallel-launch", "p", "O1", "--wait"]);
    expect(r.code).toBe(1);
    const s = await readJson(ctx, ["status", "p"]);
    const byId = Object.fromEntries(s.tasks.map((t: any) => [t.task, t]));
    expect(byId.OOM).toMatchObject({ status: "FAILED", attempt: 1, failure_kind: "gpu_error" });
    // A CUDA error fails the attempt even when the program exits 0.
    expect(byId.ASSERT).toMatchObject({ status: "FAILED", attempt: 1, failure_kind: "gpu_error", exit_code: 0 });
    // A fallback warning makes a failure a GPU failure (no retry)...
    expect(byId.NODRV).toMatchObject({ status: "FAILED", attempt: 1, failure_kind: "gpu_error", exit_code: 2 });
    // ...and leaves a success alone on a machine without a GPU (a CPU-only run of a GPU-capable program).
    expect(byId.CPU).toMatchObject({ status: "DONE" });
    // No GPU on this machine: nothing about GPUs is reported, and nothing fails for it.
    expect(s.resources).not.toHaveProperty("gpus");
    await waitFor(() => pushovers(ep).filter((p) => p.form.title!.startsWith("GPU failure")).length === 3);
    expect(pushovers(ep).find((p) => p.form.title!.startsWith("GPU failure: OOM"))!.form).toMatchObject({ priority: "1" });
  });
});
