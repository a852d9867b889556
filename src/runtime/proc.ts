/**
 * Processes by pid, safely: a pid is only "ours" when its start time
 * (/proc/<pid>/stat field 22, clock ticks since boot) matches the one
 * recorded at spawn, so a reused pid is never mistaken for a task. Zombies
 * count as gone.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  state: string;
  startTime: string;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const state = rest[0];
  const startTime = rest[19];
  return state && startTime ? { state, startTime } : null;
}

/** The start time of a live process, or null. */
export function procStartTime(pid: number): string | null {
  const s = readStat(pid);
  return s && s.state !== "Z" && s.state !== "X" ? s.startTime : null;
}

/** True when `pid` is alive, not a zombie, and (if given) started at `startTime`. */
export function isAlive(pid: number | null | undefined, startTime?: string | null): boolean {
  if (!pid || pid <= 0) return false;
  const s = readStat(pid);
  if (s) {
    if (s.state === "Z" || s.state === "X") return false;
    return !startTime || s.startTime === startTime;
  }
  // No /proc (not Linux): fall back to signal 0.
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // kill(-pgid, 0) also succeeds while only zombies remain; a zombie leader with no
  // other members is gone for our purposes.
  return groupMembers(pgid).length > 0;
}

/** Live (non-zombie) pids of a process group, read from /proc. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [pgid];
  }
  const out: number[] = [];
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // field 5 (pgrp) is rest[2]
    if (Number(rest[2]) === pgid && rest[0] !== "Z" && rest[0] !== "X") out.push(pid);
  }
  return out;
}

/** Sends `signal` to a whole process group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pid of the wrapper writing `logPath`, found by its command line (the
 * log path is one of its arguments), or null. Used when a claim's launcher
 * died before recording the pid: the process may or may not have started.
 */
export function findWrapperPid(logPath: string): number | null {
  const needle = `\0aipm-task\0${logPath}\0`;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(needle)) return procStartTime(Number(e)) ? Number(e) : null;
    } catch {
      /* gone */
    }
  }
  return null;
}
