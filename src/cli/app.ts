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
import { registerImport } from "./commands/import.js";
import { registerTaskAdd } from "./commands/task-add.js";
import { registerParallelLaunch } from "./commands/parallel-launch.js";
import { registerStatus } from "./commands/status.js";
import { registerDemo } from "./commands/demo.js";
import { registerWait } from "./commands/wait.js";
import { registerExecuteTask } from "./commands/execute-task.js";
import { registerTaskControl } from "./commands/task-control.js";
import { registerLogs } from "./commands/logs.js";
import { registerEnqueue } from "./commands/enqueue.js";
import { registerNotify } from "./commands/notify.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerProgress } from "./commands/progress.js";
import { registerExplain } from "./commands/explain.js";
import { checkIdArgs } from "./check-ids.js";
import { checkSettings } from "../config/settings.js";
import { registerMcp } from "./commands/mcp.js";
import { registerSetup } from "./commands/setup.js";

class UsageProblem extends Error {}

function build(args: string[], io: CliIO): Argv<GlobalArgs> {
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
  y = registerImport(y, io);
  y = registerTaskAdd(y, io);
  y = registerParallelLaunch(y, io);
  y = registerStatus(y, io);
  y = registerExecuteTask(y, io);
  y = registerWait(y, io);
  y = registerTaskControl(y, io);
  y = registerLogs(y, io);
  y = registerEnqueue(y, io);
  y = registerNotify(y, io);
  y = registerDashboard(y, io);
  y = registerProgress(y, io);
  y = registerExplain(y, io);
  y = registerMcp(y, io);
  y = registerSetup(y, io);
  y = registerDemo(y, io);
  return y.help().alias("h", "help").version().alias("v", "version");
}

export async function runCli(args: string[], ioIn: CliIO): Promise<number> {
  const io: CliIO = { ...ioIn, exitCode: 0 };
  try {
    await build(args, io).parseAsync();
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
