/**
 * Every PROJECT, ORDER, TASK (and `--project`) argument of every command is an
 * id: checked by the contract's rule before the command opens the database,
 * so `aipm status ..` or `aipm logs . --project x` is exit 2 with one line.
 */
import { usageError } from "../errors.js";
import { idProblem } from "../plan/spec.js";

const ID_ARGS = [
  ["project", "PROJECT", "project"],
  ["order", "ORDER", "order"],
  ["task", "TASK", "task"],
] as const;

export function checkIdArgs(args: Record<string, unknown>): void {
  for (const [key, place, what] of ID_ARGS) {
    const v = args[key];
    if (v === undefined) continue;
    const problem = idProblem(typeof v === "number" ? String(v) : v, what);
    if (problem !== null) throw usageError(`${place}: ${problem}`);
  }
}
