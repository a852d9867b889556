/**
 * `aipm enqueue NAME -- CMD...`: the durable FIFO queue for long shell
 * commands. Each command becomes a task of order `QUEUE` in project
 * `default`, run in the directory it was enqueued from; tasks start in the
 * order they were enqueued as slots free up (one at a time unless
 * `--max-workers` or AIPM_QUEUE_WORKERS says otherwise).
 */
import type { Store } from "../store/open.js";
import { ensureProject, projectRoot } from "../store/projects.js";
import { queuePosition, taskExists } from "../store/tasks-read.js";
import { setTaskCwd } from "../store/task-definitions.js";
import { applyPlan } from "../plan/import-plan.js";
import { commandTaskSpec, ID_PATTERN } from "../plan/spec.js";
import { usageError } from "../errors.js";

import { QUEUE_ORDER, QUEUE_PROJECT } from "./queue-names.js";
export { QUEUE_ORDER, QUEUE_PROJECT };

export interface EnqueueInput {
  name: string;
  argv: string[];
  cwd: string;
  timeoutS?: number | undefined;
  maxAttempts?: number | undefined;
}

/** Adds the command; returns its task id (NAME, or NAME.2, NAME.3... when NAME is taken) and queue position. */
export function enqueue(store: Store, input: EnqueueInput): { task: string; position: number } {
  if (!ID_PATTERN.test(input.name)) throw usageError(`bad queue name "${input.name}" (expected 1-64 of A-Z a-z 0-9 _ . -)`);
  if (input.argv.length === 0) throw usageError("enqueue: give the command after --, e.g. aipm enqueue tests -- npm test");
  const now = store.now();
  ensureProject(store, QUEUE_PROJECT, input.cwd, now);
  let id = input.name;
  for (let n = 2; taskExists(store, QUEUE_PROJECT, id); n++) {
    id = `${input.name}.${n}`.slice(-64);
  }
  const root = projectRoot(store, QUEUE_PROJECT) as string;
  applyPlan(store, {
    project: QUEUE_PROJECT,
    root,
    allowedTools: null,
    orders: [
      {
        id: QUEUE_ORDER,
        title: null,
        allowedTools: null,
        budgetUsd: null,
        preempt: null,
        place: "enqueue",
        tasks: [
          commandTaskSpec({
            id,
            title: input.argv.join(" ").slice(0, 200),
            command: input.argv,
            timeoutS: input.timeoutS ?? null,
            maxAttempts: input.maxAttempts ?? 1,
            place: "enqueue",
          }),
        ],
      },
    ],
  });
  setTaskCwd(store, QUEUE_PROJECT, id, input.cwd);
  const position = queuePosition(store, QUEUE_PROJECT, QUEUE_ORDER, id);
  return { task: id, position };
}
