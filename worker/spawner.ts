/**
 * The spawner: a small helper process that starts task wrappers for a
 * supervisor and reports their pids and exits over the IPC channel.
 *
 * Why a separate process: Node's spawn() blocks its caller until the child
 * has exec'd, and forking a large process (the supervisor holds SQLite, the
 * project view...) costs more than forking a small one. With the spawner,
 * the supervisor's thread records transitions while this one forks, in
 * parallel. It loads nothing but node:child_process and node:fs.
 *
 * Protocol (JSON messages):
 *   in   { t: "spawn", id, args, cwd, env, unset }  args for /bin/sh; env: overrides of the spawner's env; unset: names removed
 *   out  { t: "spawned", id, pid, procStart }  |  { t: "error", id, error, code }
 *   out  { t: "exit", id, code, signal }
 *   out  { t: "ready" }  once, at start: until then the supervisor starts workers itself
 * When the channel closes (the supervisor stopped or died) the spawner exits;
 * the tasks, in their own sessions, go on.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

interface SpawnMessage {
  t: "spawn";
  id: number;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  unset?: string[];
}

function procStart(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

// The supervisor may be gone (stopped, or died) by the time there is something to say: a message to
// a closed channel is dropped, never an unhandled 'error' event.
const send = (m: unknown): void => {
  if (process.connected) process.send?.(m, undefined, {}, () => {});
};

process.on("message", (m: SpawnMessage) => {
  if (m.t !== "spawn") return;
  try {
    const env = { ...process.env, ...m.env };
    for (const k of m.unset ?? []) delete env[k];
    const child = spawn("/bin/sh", m.args, {
      cwd: m.cwd,
      env,
      detached: true,
      stdio: "ignore",
    });
    child.on("error", (err: NodeJS.ErrnoException) => send({ t: "error", id: m.id, error: err.message, code: err.code }));
    if (child.pid === undefined) return;
    send({ t: "spawned", id: m.id, pid: child.pid, procStart: procStart(child.pid) });
    child.on("exit", (code, signal) => send({ t: "exit", id: m.id, code, signal }));
  } catch (err) {
    send({ t: "error", id: m.id, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
  }
});
process.on("disconnect", () => process.exit(0));
send({ t: "ready" });
