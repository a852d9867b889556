/**
 * `aipm logs TASK [--project P] [--follow | --tail N] [--raw]` and `aipm cleanup [--days N]`.
 * An agent's stream-json is printed as one readable line per event unless
 * `--raw` (the JSON document's `content` is always the raw log). The log is
 * streamed, never read whole; of a log over LOG_SHOW_MAX only the end is
 * shown, with a notice on stderr (`skipped_bytes` in JSON).
 */
import type { Argv } from "yargs";
import { cleanup, latestLog, LogFollower, readLog, streamLog, type LogView } from "../../runtime/task-logs.js";
import { taskStatus } from "../../store/tasks-read.js";
import { usageError } from "../../errors.js";
import { emit, emitJson, type CliIO, type GlobalArgs } from "../io.js";
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
          .option("tail", { type: "number", describe: `only the last N lines (at most ${MAX_TAIL_LINES})` })
          .example("aipm logs T1 --tail 50", "the last 50 lines of T1's latest attempt")
          .example("aipm logs T1 -f", "follow T1's log until it ends"),
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
          let readable = new ReadableAgentOutput();
          const shown = (t: string) => (args.raw ? t : readable.push(t));
          const notice = (v: LogView | null) => {
            if (v && v.skipped > 0) io.stderr(`aipm: the log is ${mb(v.size)}; showing its last ${mb(v.size - v.skipped)} (the whole log: ${log.path})\n`);
          };
          if (args.json) {
            const { text, view } = readLog(log.path);
            notice(view);
            emitJson(io, {
              project: log.ref.project,
              task: log.ref.task,
              status: log.ref.status,
              attempt: log.attempt,
              log: log.path,
              size: view?.size ?? 0,
              skipped_bytes: view?.skipped ?? 0,
              content: text,
            });
            return;
          }
          if (!log.path) {
            // No run recorded: it has not run, or `aipm cleanup` removed its runs and logs.
            io.stdout(log.ref.status === "QUEUED" ? `(${log.ref.task} has not run yet)\n` : `(${log.ref.task} is ${log.ref.status}: its logs were removed by aipm cleanup)\n`);
            return;
          }
          const view = streamLog(log.path, (t) => {
            const out = shown(t);
            if (out) io.stdout(out);
          });
          notice(view);
          if (!args.follow) {
            if (!args.raw) io.stdout(readable.flush());
            return;
          }
          const follower = new LogFollower(log.path, view?.size ?? 0);
          let path: string | null = log.path;
          for (;;) {
            await sleep(200);
            const now = latestLog(store, args.task, args.project);
            if (now.path !== path) {
              path = now.path;
              follower.switchTo(path);
              readable = new ReadableAgentOutput();
              io.stdout(`--- attempt ${now.attempt} ---\n`);
            }
            const more = follower.read();
            if (more) io.stdout(shown(more));
            const status = taskStatus(store, now.ref.project, now.ref.task);
            if (status !== "IN_PROGRESS" && status !== "REVIEW" && status !== "QUEUED") break;
          }
        }, { readOnly: true });
      },
    )
    .command(
      "cleanup",
      "delete finished tasks' logs and run records older than N days",
      (b) =>
        b
          .option("days", { type: "number", default: 7, describe: "age in days" })
          .example("aipm cleanup --days 30", "delete logs and run records of tasks finished over 30 days ago"),
      async (args) => {
        if (!(args.days >= 0)) throw usageError(`--days: expected a number of days from 0 up, got ${args.days}`);
        const r = await withStore(io, args, (store) => cleanup(store, args.days));
        emit(io, args, r, () => `deleted ${r.runs_deleted} run records and ${r.files_deleted} files older than ${r.days} days\n`);
      },
    );
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
