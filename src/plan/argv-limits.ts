/**
 * What the kernel would refuse at exec time, refused at input instead (with
 * its place), so a task can never be claimed and fail to start forever:
 *
 * - a NUL byte in an argument (C strings end there);
 * - one argument (or one environment string) over MAX_ARG_STRLEN: 32 pages =
 *   131,072 bytes on Linux including its terminating NUL, so 131,071 bytes;
 * - a whole argv over MAX_ARGV_BYTES = 1 MiB (each argument's bytes + its
 *   NUL). The kernel's real limit, ARG_MAX, is a quarter of the stack limit
 *   (2 MiB with the usual 8 MiB stack) and is shared with the environment —
 *   the user's, plus the AIPM_* variables — so aipm keeps argv to half of it.
 *
 * Sizes are UTF-8 bytes, as the kernel counts them.
 */
export const MAX_ARG_BYTES = 131_072 - 1;
export const MAX_ARGV_BYTES = 1024 * 1024;

const fmt = (n: number) => n.toLocaleString("en-US");

/** The problem with one string that will be an argument (or env value), or null. */
export function argProblem(value: string, extraBytes = 0): string | null {
  if (value.includes("\0")) return "contains a NUL byte";
  const bytes = Buffer.byteLength(value, "utf8") + extraBytes;
  if (bytes > MAX_ARG_BYTES) return `${fmt(bytes)} bytes, over the kernel's limit of ${fmt(MAX_ARG_BYTES)} bytes for one argument`;
  return null;
}

/**
 * Problems of a command as it will be exec'd: an argv array (`place[i]` for
 * each argument) or a shell string (one argument of `/bin/sh -c`, `place`).
 */
export function commandProblems(command: readonly string[] | string, place: string): string[] {
  const out: string[] = [];
  const args = typeof command === "string" ? [command] : command;
  let total = 0;
  args.forEach((a, i) => {
    const p = argProblem(a);
    if (p !== null) out.push(`${typeof command === "string" ? place : `${place}[${i}]`}: ${p}`);
    total += Buffer.byteLength(a, "utf8") + 1;
  });
  if (out.length === 0 && total > MAX_ARGV_BYTES) {
    out.push(`${place}: arguments of ${fmt(total)} bytes in all, over aipm's limit of ${fmt(MAX_ARGV_BYTES)} bytes (the kernel's ARG_MAX is shared with the environment)`);
  }
  return out;
}
