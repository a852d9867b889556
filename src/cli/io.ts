/**
 * What a CLI command writes to and reads from. `runCli` takes one so tests
 * can run commands in-process; the binary passes the real process streams.
 *
 * With `--json`, stdout receives exactly one JSON document (`emitJson`);
 * humans' text goes to stdout otherwise, and progress and warnings always go
 * to stderr.
 */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when stderr is a terminal (live displays on stderr). */
  isTTY: boolean;
  /** True when stdout is a terminal (colour and relative times in what a command prints; `status --watch`). */
  stdoutTTY?: boolean | undefined;
  /** Set by a command whose work failed (1); runCli returns it. */
  exitCode?: number;
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
    stdoutTTY: Boolean(process.stdout.isTTY),
  };
}

export interface GlobalArgs {
  db?: string | undefined;
  json?: boolean | undefined;
}

export function emitJson(io: CliIO, doc: unknown): void {
  io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Prints `doc` as JSON with --json, else the human rendering. */
export function emit(io: CliIO, args: GlobalArgs, doc: unknown, human: () => string): void {
  if (args.json) emitJson(io, doc);
  else io.stdout(human());
}

export function warn(io: CliIO, lines: readonly string[]): void {
  for (const l of lines) io.stderr(`aipm: warning: ${l}\n`);
}
