/**
 * The floor as its own process, like the commands it is compared with:
 * `node dist/bench/floor-main.js WORKLOAD.json CWD [LOGDIR]` runs the workload with the
 * bare scheduler (./floor-scheduler.ts) and prints `{ wallMs, timings }` (its
 * own clock, after Node's start-up) on stdout.
 */
import { readFileSync } from "node:fs";
import { runFloor, type Workload } from "./floor-scheduler.js";

const [file, cwd, logDir] = process.argv.slice(2);
if (!file || !cwd) {
  process.stderr.write("usage: floor-main WORKLOAD.json CWD\n");
  process.exit(2);
}
const w = JSON.parse(readFileSync(file, "utf8")) as Workload;
const r = await runFloor(w, cwd, logDir);
process.stdout.write(`${JSON.stringify(r)}\n`);
