/**
 * The one shell script aipm runs: the wrapper around every task process.
 *
 *   sh -c WRAPPER aipm-task LOG STDIN_FILE ARGV...
 *
 * It appends its output to the attempt's log (opened here, in the child, off
 * the supervisor's path), takes stdin from STDIN_FILE when one is given, runs
 * the task's argv exactly as given ("$@": no string is ever built from task
 * data), and ends the log with one trailer line holding the exit status:
 *
 *   [aipm] exit status 0
 *
 * The wrapper leads the task's process group and outlives any aipm process,
 * so a task that ends while no aipm process watches still leaves its status
 * behind for the next one to record. A command killed by signal N ends with
 * status 128+N; a wrapper killed itself (kill -9 of the group) leaves no
 * trailer, and the attempt counts as crashed.
 *
 * Why a trailer rather than a separate exit file: creating a file is the most
 * expensive thing a short task does here (measured: ~0.3-0.6 ms of kernel
 * time each on ext4), and the log exists anyway.
 */
export const TASK_WRAPPER =
  'l=$1; i=$2; shift 2; exec >>"$l" 2>&1; if [ -n "$i" ]; then exec <"$i"; fi; "$@"; s=$?; printf "\\n[aipm] exit status %s\\n" "$s"; exit "$s"';

export function wrapperArgv(log: string, stdinFile: string | null, argv: readonly string[]): string[] {
  return ["-c", TASK_WRAPPER, "aipm-task", log, stdinFile ?? "", ...argv];
}

const TRAILER = /\n\[aipm\] exit status (\d+)\n$/;

/** The status in a log's last bytes, or null when the wrapper has not (or never) finished. */
export function parseTrailer(tail: string): number | null {
  const m = TRAILER.exec(tail);
  return m ? Number(m[1]) : null;
}

/** The log without the wrapper's trailer, for display. */
export function stripTrailer(text: string): string {
  return text.replace(/\n\[aipm\] exit status \d+\n$/, "\n").replace(/^\n$/, "");
}

export const TRAILER_MAX_BYTES = 40;
