/**
 * `aipm task add PROJECT ORDER TASK [--title] [--prompt T | --command ...]
 *  [--deps A,B] [--files F,G] [--priority P1]`
 *
 * `--command` takes one shell string (`--command "npm test"`, run by /bin/sh -c)
 * or several words (`--command npm test`, an argv array); an argv may also
 * follow `--` (`aipm task add P O T -- npm test`).
 */
import type { Argv } from "yargs";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { renderImport } from "./import.js";

function splitList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(",")).map((s) => s.trim()).filter(Boolean);
}

export function registerTaskAdd(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command("task", "manage single tasks", (t) =>
    t
      .command(
        "add <project> <order> <task>",
        "add one task (the order is created if missing; the project must exist)",
        (b) =>
          b
            .positional("project", { type: "string", demandOption: true })
            .positional("order", { type: "string", demandOption: true })
            .positional("task", { type: "string", demandOption: true })
            .option("title", { type: "string" })
            .option("prompt", { type: "string", describe: "text for the AI agent worker" })
            .option("command", { type: "array", string: true, describe: "shell string, or argv words" })
            .option("deps", { type: "string", describe: "comma-separated task ids; ID:failure or ID:always for a condition" })
            .option("files", { type: "string", describe: "comma-separated target files or globs" })
            .option("priority", { type: "string", describe: "P0 (most urgent) to P3; default P2" })
            .option("timeout", { type: "number", describe: "seconds before the worker is killed" })
            .option("max-attempts", { type: "number" })
            .option("model", { type: "string" })
            .option("review", { type: "boolean", describe: "review before DONE (--no-review to skip)" })
            .example("aipm task add myproj O1 T9 --command 'npm test' --deps T1,T2", "a command task after T1 and T2")
            .example("aipm task add myproj O1 DOC --prompt 'Document the API' --files docs/api.md", "an agent task that edits docs/api.md"),
        async (args) => {
          const rest = ((args as { "--"?: unknown[] })["--"] ?? []).map(String);
          const words = args.command?.map(String);
          const command = rest.length > 0 ? rest : words === undefined ? undefined : words.length === 1 ? words[0] : words;
          const task: Record<string, unknown> = {
            id: args.task,
            title: args.title,
            prompt: args.prompt,
            command,
            // `--deps A,TESTS:failure,B:always`: an id, or an id and its condition.
            deps: splitList(args.deps)?.map((d) => {
              const at = d.lastIndexOf(":");
              return at > 0 ? { task: d.slice(0, at), on: d.slice(at + 1) } : d;
            }),
            target_files: splitList(args.files),
            priority: args.priority,
            timeout_s: args.timeout,
            max_attempts: args.maxAttempts,
            model: args.model,
            review: args.review,
          };
          const { addTask } = await import("../../plan/add-task.js");
          const result = await withStore(io, args, (store) => addTask(store, { project: args.project, order: args.order, task }));
          const { warnings: _w, ...json } = result;
          emit(io, args, json, () => renderImport(result));
        },
      )
      .example("aipm task add myproj O1 T9 --command 'npm test'", "add a command task to order O1")
      .demandCommand(1, "task: name a subcommand (add)"),
  );
}
