/**
 * The aipm command line: argv in, exit code out. A thin layer: every command
 * parses its flags and calls the library. Errors become one line on stderr
 * (every problem's line for a validation error) and exit code 2 for bad
 * input, 1 for failed work; a stack trace only with AIPM_DEBUG=1.
 */
import { describeDbError, isDbError } from "../store/db-errors.js";
import yargs, { type Argv } from "yargs";
import { AipmError, exitCodeFor } from "../errors.js";
import type { CliIO, GlobalArgs } from "./io.js";
import { checkIdArgs } from "./check-ids.js";
import { checkSettings } from "../config/settings.js";
import { packageVersion } from "../util/package-root.js";

type Register = (y: Argv<GlobalArgs>, io: CliIO) => Argv<GlobalArgs>;

/**
 * Every command's module, in the order of the help text, with the names that
 * select it. A command's module (and what it imports: the store, the
 * runtime...) is loaded only when its command is run: a command names one, and
 * only --help, no command or an unknown one load them all (for the list and the
 * suggestions). Loading all of them cost ~100 ms of every command's start.
 */
const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ["import"], load: async () => (await import("./commands/import.js")).registerImport },
  { names: ["task"], load: async () => (await import("./commands/task-add.js")).registerTaskAdd },
  { names: ["parallel-launch", "parallel_launch"], load: async () => (await import("./commands/parallel-launch.js")).registerParallelLaunch },
  { names: ["status", "locks"], load: async () => (await import("./commands/status.js")).registerStatus },
  { names: ["execute-task", "execute_task"], load: async () => (await import("./commands/execute-task.js")).registerExecuteTask },
  { names: ["wait"], load: async () => (await import("./commands/wait.js")).registerWait },
  { names: ["kill", "retry", "pause", "resume", "scale", "recover"], load: async () => (await import("./commands/task-control.js")).registerTaskControl },
  { names: ["logs", "cleanup"], load: async () => (await import("./commands/logs.js")).registerLogs },
  { names: ["enqueue"], load: async () => (await import("./commands/enqueue.js")).registerEnqueue },
  { names: ["notify"], load: async () => (await import("./commands/notify.js")).registerNotify },
  { names: ["dashboard"], load: async () => (await import("./commands/dashboard.js")).registerDashboard },
  { names: ["progress"], load: async () => (await import("./commands/progress.js")).registerProgress },
  { names: ["explain"], load: async () => (await import("./commands/explain.js")).registerExplain },
  { names: ["mcp"], load: async () => (await import("./commands/mcp.js")).registerMcp },
  { names: ["setup"], load: async () => (await import("./commands/setup.js")).registerSetup },
  { names: ["demo"], load: async () => (await import("./commands/demo.js")).registerDemo },
];

/** Global options that take a value (the value is not a command's name). */
const VALUE_OPTIONS = new Set(["--db"]);

/** The modules to register for `args`: the named command's, or all of them (help, no command, unknown command). */
export function commandsFor(args: readonly string[]): typeof COMMANDS {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (a === "--help" || a === "-h") return COMMANDS;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    const hit = COMMANDS.find((c) => c.names.includes(a));
    if (!hit) return COMMANDS;
    // Help asked after the command (`aipm import --help`) is that command's own: one module is enough.
    return [hit];
  }
  return COMMANDS;
}

class UsageProblem extends Error {}

function build(args: string[], io: CliIO, registers: readonly Register[]): Argv<GlobalArgs> {
  let y: Argv<GlobalArgs> = yargs(args)
    .scriptName("aipm")
    .usage("aipm <command> [options]\n\nRun many AI coding agents and long shell jobs in parallel on one repository.")
    .option("db", { type: "string", global: true, describe: "database file (env AIPM_DB; default: the nearest .aipm/aipm.db upward, else ./.aipm/aipm.db)" })
    .option("json", { type: "boolean", global: true, describe: "print exactly one JSON document on stdout" })
    .parserConfiguration({ "populate--": true })
    .strict()
    .demandCommand(1, "name a command (aipm --help lists them)")
    .recommendCommands()
    .exitProcess(false)
    .showHelpOnFail(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageProblem(msg);
    })
    .middleware((argv) => {
      checkSettings(io.env);
      checkIdArgs(argv);
    });
  for (const register of registers) y = register(y, io);
  y = y.help().alias("h", "help").version(packageVersion()).alias("v", "version");
  skipHelpCache(y);
  return y;
}

/**
 * yargs formats the running command's whole help text as soon as its handler
 * has started (so that an async handler could still show that help later):
 * string widths, wrapping, ~15-40 ms of every command. aipm never shows help
 * once a command runs (showHelpOnFail is off, failures are our own lines, no
 * handler asks for help), so that text is not made. `--help` is unaffected:
 * it does not go through a handler.
 */
function skipHelpCache(y: Argv<GlobalArgs>): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (y as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

export async function runCli(args: string[], ioIn: CliIO): Promise<number> {
  const io: CliIO = { ...ioIn, exitCode: 0 };
  try {
    const registers = await Promise.all(commandsFor(args).map((c) => c.load()));
    await build(args, io, registers).parseAsync();
    return io.exitCode ?? 0;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIO): number {
  const debug = io.env.AIPM_DEBUG === "1";
  if (err instanceof UsageProblem) {
    io.stderr(`aipm: ${err.message} (see aipm --help)\n`);
    return 2;
  }
  if (err instanceof AipmError) {
    io.stderr(`aipm: ${err.message}\n`);
    for (const d of err.details) io.stderr(`  ${d}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    return exitCodeFor(err);
  }
  const e = err as Error & { name?: string };
  if (e?.name === "YError") {
    io.stderr(`aipm: ${e.message} (see aipm --help)\n`);
    return 2;
  }
  // A database error (disk full, I/O error, locked too long): one line, exit 1.
  io.stderr(`aipm: ${isDbError(err) ? describeDbError(err) : (e?.message ?? String(err))}\n`);
  if (debug && e?.stack) io.stderr(`${e.stack}\n`);
  return 1;
}
