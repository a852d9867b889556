import { describe, expect, it } from "vitest";
import { detect, type DetectInput } from "../src/detect/select.js";
import type { TaskNode, HeldLock } from "../src/store/read-project.js";
import type { Priority, TaskStatus } from "../src/store/schema.js";

let seq = 0;
function task(id: string, o: Partial<Omit<TaskNode, "id">> = {}): TaskNode {
  return {
    seq: ++seq,
    id,
    orderId: "O",
    status: "QUEUED" as TaskStatus,
    priority: "P2" as Priority,
    retryAt: null,
    agent: false,
    deps: [],
    targetFiles: [],
    ...o,
  };
}

function run(tasks: TaskNode[], o: Partial<DetectInput> = {}) {
  const r = detect({
    tasks: new Map(tasks.map((t) => [t.id, t])),
    orderId: "O",
    paused: false,
    locks: [],
    freeSlots: 10,
    now: 1_000_000,
    ...o,
  });
  return { ids: r.launchable.map((t) => t.id), skipped: r.skipped, blocked: r.blocked };
}

const held = (taskId: string, ...paths: string[]): HeldLock[] => paths.map((path) => ({ path, taskId, acquiredAt: 0 }));

describe("detector", () => {
  it("orders by priority, then creation order", () => {
    const r = run([task("a", { priority: "P3" }), task("b"), task("c", { priority: "P0" }), task("d"), task("e", { priority: "P1" })]);
    expect(r.ids).toEqual(["c", "e", "b", "d", "a"]);
    expect(r.skipped).toEqual([]);
  });

  it("caps the selection at the free slots and skips the rest with capacity", () => {
    const r = run([task("a"), task("b", { priority: "P1" }), task("c"), task("d")], { freeSlots: 2 });
    expect(r.ids).toEqual(["b", "a"]);
    expect(r.skipped).toEqual([
      { task: "c", reason: "capacity" },
      { task: "d", reason: "capacity" },
    ]);
  });

  it("launches nothing when there is no free slot (negative counts as zero)", () => {
    expect(run([task("a")], { freeSlots: -2 }).skipped).toEqual([{ task: "a", reason: "capacity" }]);
  });

  it("waits for every dependency to be DONE and names the ones not done", () => {
    const r = run([
      task("d1", { status: "DONE" }),
      task("d2", { status: "IN_PROGRESS", orderId: "OTHER" }),
      task("d3", { status: "REVIEW" }),
      task("x", { deps: ["d1", "d2", "d3"] }),
      task("y", { deps: ["d1"] }),
    ]);
    expect(r.ids).toEqual(["y"]);
    expect(r.skipped).toEqual([{ task: "x", reason: "dependency", waiting_for: ["d2", "d3"] }]);
  });

  it("honours dependencies across orders of the project", () => {
    const r = run([task("other", { orderId: "P", status: "DONE" }), task("x", { deps: ["other"] })]);
    expect(r.ids).toEqual(["x"]);
  });

  it("only looks at QUEUED tasks of the requested order", () => {
    const r = run([task("mine"), task("theirs", { orderId: "P" }), task("done", { status: "DONE" }), task("running", { status: "IN_PROGRESS" })]);
    expect(r.ids).toEqual(["mine"]);
    expect(r.skipped).toEqual([]);
  });

  it("blocks tasks behind a FAILED or CANCELLED dependency, directly or transitively", () => {
    const r = run([
      task("f", { status: "FAILED" }),
      task("c", { status: "CANCELLED" }),
      task("b1", { deps: ["f"] }),
      task("b2", { deps: ["b1"] }),
      task("b3", { deps: ["b2", "ok"] }),
      task("ok"),
      task("viaC", { deps: ["c"] }),
    ]);
    expect(r.ids).toEqual(["ok"]);
    expect(r.skipped).toEqual([
      { task: "b1", reason: "blocked", failed_dependency: "f" },
      { task: "b2", reason: "blocked", failed_dependency: "f" },
      { task: "b3", reason: "blocked", failed_dependency: "f" },
      { task: "viaC", reason: "blocked", failed_dependency: "c" },
    ]);
    expect([...r.blocked.keys()].sort()).toEqual(["b1", "b2", "b3", "viaC"]);
  });

  it("does not propagate a failure through a dependency that is DONE", () => {
    const r = run([task("f", { status: "FAILED" }), task("mid", { status: "DONE", deps: ["f"] }), task("x", { deps: ["mid"] })]);
    expect(r.ids).toEqual(["x"]);
  });

  it("skips tasks whose files conflict with held locks: equal path, directory, glob", () => {
    const locks = [...held("R1", "src/db/schema.ts"), ...held("R2", "lib"), ...held("R3", "web/**/*.css")];
    const r = run(
      [
        task("same", { targetFiles: ["src/db/schema.ts"] }),
        task("under", { targetFiles: ["README.md", "lib/util/x.ts"] }),
        task("glob", { targetFiles: ["web/a/b.css"] }),
        task("dir", { targetFiles: ["src/db"] }),
        task("free1", { targetFiles: ["web/a/b.ts", "src/db/other.ts"] }),
        task("free2", { targetFiles: ["libx/a.ts"] }),
      ],
      { locks },
    );
    expect(r.ids).toEqual(["free1", "free2"]);
    expect(r.skipped).toEqual([
      { task: "same", reason: "file_conflict", file: "src/db/schema.ts", held_by: "R1" },
      { task: "under", reason: "file_conflict", file: "lib", held_by: "R2" },
      { task: "glob", reason: "file_conflict", file: "web/**/*.css", held_by: "R3" },
      { task: "dir", reason: "file_conflict", file: "src/db/schema.ts", held_by: "R1" },
    ]);
  });

  it("never picks two conflicting tasks in one pass: the earlier in launch order wins", () => {
    const r = run([
      task("low", { priority: "P3", targetFiles: ["src/a.ts"] }),
      task("high", { priority: "P0", targetFiles: ["src/**"] }),
      task("other", { targetFiles: ["docs/x.md"] }),
    ]);
    expect(r.ids).toEqual(["high", "other"]);
    expect(r.skipped).toEqual([{ task: "low", reason: "file_conflict", file: "src/**", held_by: "high" }]);
  });

  it("a task cut by capacity does not reserve its files", () => {
    const r = run(
      [task("a", { targetFiles: ["x"] }), task("b", { targetFiles: ["y"] }), task("c", { targetFiles: ["y"] })],
      { freeSlots: 1 },
    );
    expect(r.ids).toEqual(["a"]);
    expect(r.skipped).toEqual([
      { task: "b", reason: "capacity" },
      { task: "c", reason: "capacity" },
    ]);
  });

  it("skips everything of a paused order with reason paused (blocked still wins)", () => {
    const r = run([task("f", { status: "FAILED" }), task("b", { deps: ["f"] }), task("a")], { paused: true });
    expect(r.ids).toEqual([]);
    expect(r.skipped).toEqual([
      { task: "b", reason: "blocked", failed_dependency: "f" },
      { task: "a", reason: "paused" },
    ]);
  });

  it("holds back a task in retry backoff until its time", () => {
    const later = task("later", { retryAt: 2_000_000 });
    const due = task("due", { retryAt: 999_000 });
    const r = run([later, due], { now: 1_000_000 });
    expect(r.ids).toEqual(["due"]);
    expect(r.skipped).toEqual([{ task: "later", reason: "backoff", retry_at: new Date(2_000_000).toISOString() }]);
  });

  it("reports the first reason in the documented order: blocked, paused, dependency, backoff, file_conflict, capacity", () => {
    const r = run(
      [
        task("dep", { status: "IN_PROGRESS", targetFiles: ["f"] }),
        task("x", { deps: ["dep"], targetFiles: ["f"], retryAt: 5_000_000 }),
        task("y", { targetFiles: ["f"], retryAt: 5_000_000 }),
      ],
      { locks: held("dep", "f"), freeSlots: 0 },
    );
    expect(r.skipped.map((s) => [s.task, s.reason])).toEqual([
      ["x", "dependency"],
      ["y", "backoff"],
    ]);
  });
});
