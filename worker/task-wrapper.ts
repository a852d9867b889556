/**
 * The one shell script aipm runs: the wrapper around every task process.
 *
 *   sh -c WRAPPER aipm-task LOG EXIT STDIN_FILE ARGV...
 *
 * It appends its output to the attempt's log (opened here, in the child, off
 * the supervisor's path), takes stdin from STDIN_FILE when one is given, runs
 * the task's argv exactly as given ("$@": no string is ever built from task
 * data), and once that process has exited writes its status to EXIT, a file
 * beside the log (`<attempt>.exit`), as one line:
 *
 *   0
 *
 * The status never goes through the log: nothing a task prints can end or
 * fail its attempt, and output written after the wrapper is gone (a
 * background child) cannot hide it.
 *
 * The wrapper leads the task's process group and outlives any aipm process,
 * so a task that ends while no aipm process watches still leaves its status
 * behind for the next one to record. A command killed by signal N ends with
 * status 128+N; a wrapper killed itself (kill -9 of the group) leaves no exit
 * file, and the attempt counts as crashed.
 *
 * The file is read only once the wrapper is gone (or not at all: a watcher
 * that gets the wrapper's exit event has the status already). By then the
 * wrapper's one write(2) of a few bytes has happened or never will, so it is
 * written in place rather than to a temporary name and renamed: a rename
 * needs `mv`, a fork and exec that measured ~1.7 ms per task here, as much
 * as the whole wrapper. A file that is not exactly one number and a newline
 * (the wrapper died between creating and writing it) counts as no status.
 */
export const TASK_WRAPPER =
  'l=$1; x=$2; i=$3; shift 3; exec >>"$l" 2>&1; if [ -n "$i" ]; then exec <"$i"; fi; "$@"; s=$?; echo "$s" >"$x"; exit "$s"';

export function wrapperArgv(log: string, stdinFile: string | null, argv: readonly string[]): string[] {
  return ["-c", TASK_WRAPPER, "aipm-task", log, exitFileFor(log), stdinFile ?? "", ...argv];
}

/** Where the wrapper writing `log` leaves its exit status: `<attempt>.exit` beside `<attempt>.log`. */
export function exitFileFor(log: string): string {
  return `${log.endsWith(".log") ? log.slice(0, -4) : log}.exit`;
}

/** The status in an exit file's text, or null unless it is exactly one number and a newline. */
export function parseExitFile(text: string): number | null {
  const m = /^(\d{1,3})\n$/.exec(text);
  return m ? Number(m[1]) : null;
}
