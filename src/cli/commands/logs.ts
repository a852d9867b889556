/**
 * `aipm logs TASK [--project P] [--follow | --tail N] [--raw]` and `aipm cleanup [--days N]`.
 * An agent's stream-json is printed as one readable line per event unless
 * `--raw` (the JSON document's `content` is always the raw log).
 */
import type { Argv } from "yargs";
import { statSync } from "node:fs";
import { cleanup, latestLog, readLog } from "../../runtime/task-logs.js";
import { stmt } from "../../store/statements.js";
import { usageError } from "../../errors.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { ReadableAgentOutput } from "../../agent/readable-output.js";
import { logTail, MAX_TAIL_LINES } from "../../runtime/log-tail.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function registerLogs(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y
    .command(
      "logs <task>",
      "print the task's latest log",
      (b) =>
        b
          .positional("task", { type: "string", demandOption: true })
          .option("project", { type: "string" })
          .option("follow", { type: "boolean", alias: "f", describe: "keep printing as the log grows, until the task ends" })
          .option("raw", { type: "boolean", describe: "print an agent's stream-json as it is" })
          .option("tail", { type: "number", describe: `only the last N lines (at most ${MAX_TAIL_LINES})` }),
      async (args) => {
        if (args.tail !== undefined && !(Number.isInteger(args.tail) && args.tail >= 1)) throw usageError(`--tail: expected a number of lines from 1 up, got ${args.tail}`);
        if (args.tail !== undefined && args.follow) throw usageError("--tail and --follow do not go together");
        await withStore(io, args, async (store) => {
          if (args.tail !== undefined) {
            const t = logTail(store, { task: args.task, project: args.project, lines: args.tail, raw: Boolean(args.raw) });
            emit(io, args, t, () => (t.attempt === null ? `(${t.task} has not run yet)\n` : t.tail ? `${t.tail}\n` : ""));
            return;
          }
          const log = latestLog(store, args.task, args.project);
          const text = readLog(log.path);
          let readable = new ReadableAgentOutput();
          const shown = (t: string) => (args.raw ? t : readable.push(t));
          if (args.json || !args.follow) {
            emit(io, args, { project: log.ref.project, task: log.ref.task, status: log.ref.status, attempt: log.attempt, log: log.path, content: text }, () =>
              log.path ? shown(text) + (args.raw ? "" : readable.flush()) : `(${log.ref.task} has not run yet)\n`,
            );
            return;
          }
          io.stdout(shown(text));
          let path = log.path;
          let offset = size(path);
          for (;;) {
            await sleep(200);
            const now = latestLog(store, args.task, args.project);
            if (now.path !== path) {
              path = now.path;
              offset = 0;
              readable = new ReadableAgentOutput();
              io.stdout(`--- attempt ${now.attempt} ---\n`);
            }
            const more = readLog(path, offset);
            if (more) io.stdout(shown(more));
            offset = size(path);
            const status = stmt(store, "SELECT status FROM tasks WHERE project_id = ? AND id = ?").pluck().get(now.ref.project, now.ref.task);
            if (status !== "IN_PROGRESS" && status !== "REVIEW" && status !== "QUEUED") break;
          }
        });
      },
    )
    .command(
      "cleanup",
      "delete finished tasks' logs and run records older than N days",
      (b) => b.option("days", { type: "number", default: 7, describe: "age in days" }),
      async (args) => {
        if (!(args.days >= 0)) throw usageError(`--days: expected a number of days from 0 up, got ${args.days}`);
        const r = await withStore(io, args, (store) => cleanup(store, args.days));
        emit(io, args, r, () => `deleted ${r.runs_deleted} run records and ${r.files_deleted} files older than ${r.days} days\n`);
      },
    );
}

function size(path: string | null): number {
  try {
    return path ? statSync(path).size : 0;
  } catch {
    return 0;
  }
}
