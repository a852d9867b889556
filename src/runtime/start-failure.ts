/**
 * Why a task's process could not start, and whether that will pass.
 *
 * Will not pass (`permanent`): the program is missing or not executable
 * (ENOENT, EACCES, ENOEXEC...), the arguments or environment are too long
 * (E2BIG: the kernel takes at most 128 KiB per argument), an argument holds a
 * NUL byte, the command is empty or cannot be built. The task FAILS at once.
 *
 * May pass (transient): out of processes, files or memory (EAGAIN, EMFILE,
 * ENFILE, ENOMEM), a full disk while writing the prompt file, the spawner
 * process gone — and anything not recognised. The task is tried again after
 * a backoff, a few times (see failStart in src/store/transitions.ts).
 */
import { AipmError } from "../errors.js";

export interface StartFailure {
  permanent: boolean;
  /** One line, for the task's `error`. */
  reason: string;
}

const PERMANENT_CODES = new Set(["ENOENT", "EACCES", "E2BIG", "ENOEXEC", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "EISDIR", "EPERM"]);
const INVALID_ARG_CODES = new Set(["ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE"]);
const MAX_REASON = 300;

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  const m = /\b(E[A-Z0-9]{2,})\b/.exec(err instanceof Error ? err.message : String(err));
  return m ? m[1]! : null;
}

/** Classifies a failure to start `argv` (the task's command) and words it. */
export function classifyStartFailure(err: unknown, argv: readonly string[] = []): StartFailure {
  const message = err instanceof Error ? err.message : String(err);
  const code = codeOf(err);
  if (err instanceof AipmError) return { permanent: true, reason: cut(message) };
  if (code !== null && INVALID_ARG_CODES.has(code)) {
    const nul = argv.findIndex((a) => a.includes("\0"));
    const reason = nul >= 0 ? `spawn: argument ${nul} of the command contains a NUL byte` : `spawn: invalid argument (${firstLine(message)})`;
    return { permanent: true, reason: cut(reason) };
  }
  if (code === "E2BIG") {
    const longest = argv.reduce((m, a) => Math.max(m, Buffer.byteLength(a)), 0);
    const total = argv.reduce((m, a) => m + Buffer.byteLength(a) + 1, 0);
    return {
      permanent: true,
      reason: `spawn E2BIG: the command's arguments are too long (${total} bytes, the longest ${longest}; the kernel takes at most 131072 per argument)`,
    };
  }
  if (code !== null && PERMANENT_CODES.has(code)) return { permanent: true, reason: cut(firstLine(message)) };
  if (message === "empty command") return { permanent: true, reason: "spawn: the command is empty" };
  return { permanent: false, reason: cut(firstLine(message)) };
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i >= 0 ? s.slice(0, i) : s;
}

function cut(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 3)}...` : s;
}
