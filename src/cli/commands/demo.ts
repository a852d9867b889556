/**
 * `aipm demo`: make a sample project in a temp folder, import its order (a DAG
 * with priorities and file conflicts), show what would launch and why, then
 * run it for real with the live display and print the summary.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redactDbUrl } from "../../store/db-location.js";
import { resolveDbPath } from "../../store/open.js";
import type { Argv } from "yargs";
import { demoPlan } from "../../demo/demo-plan.js";
import { resolveLaunchOptions } from "../../config/launch-options.js";
import { resolveRuntimeOptions } from "../../config/runtime-options.js";
import { createResourceMonitor } from "../../resources/monitor.js";
import { launchOrder } from "../../runtime/launch-order.js";
import { emit, type CliIO, type GlobalArgs } from "../io.js";
import { withStore } from "../with-store.js";
import { renderLaunchReport } from "../render/launch-report.js";
import { renderWaitSummary } from "../render/wait-summary.js";
import { waitWithDisplay } from "../wait-with-display.js";
import { renderImport } from "./import.js";

const ORDER = "ORDER_DEMO";

export function registerDemo(y: Argv<GlobalArgs>, io: CliIO): Argv<GlobalArgs> {
  return y.command(
    "demo",
    "make a demo project in a temp folder, import a sample order, run it with a live display",
    (b) =>
      b
        .option("dry-run", { type: "boolean", describe: "only show what would launch and why" })
        .example("aipm demo", "watch a sample order run")
        .example("aipm demo --dry-run", "see what it would launch, and why the rest waits"),
    async (args) => {
      const dir = mkdtempSync(join(tmpdir(), "aipm-demo-"));
      const db = args.db !== undefined ? resolveDbPath({ db: args.db, cwd: io.cwd }) : join(dir, ".aipm", "aipm.db");
      const say = (t: string) => (args.json ? io.stderr(t) : io.stdout(t));
      io.stderr(`demo project in ${dir}\n`);
      const { importPlan } = await import("../../plan/import-plan.js");
      const result = await withStore(io, { ...args, db }, async (store) => {
        const imported = importPlan(store, demoPlan(), dir);
        say(`${renderImport(imported)}\n`);
        const options = resolveLaunchOptions({}, io.env);
        const runtime = resolveRuntimeOptions(io.env);
        const monitor = options.monitoring ? createResourceMonitor({ now: store.now }) : undefined;
        const startedAt = store.now();
        const dry = await launchOrder(store, { project: "demo", order: ORDER, options, backoffS: runtime.backoffS, env: io.env, monitor, dryRun: true });
        say(`${renderLaunchReport(dry.report)}\n`);
        if (args.dryRun) return { dir, db: redactDbUrl(store.path), import: imported, launch: dry.report, summary: null };
        const { report, launched } = await launchOrder(store, { project: "demo", order: ORDER, options, backoffS: runtime.backoffS, env: io.env, monitor, dryRun: false });
        const summary = await waitWithDisplay(store, io, { project: "demo", order: ORDER, runtime, env: io.env, monitor, launched, startedAt });
        say(`\n${renderWaitSummary(summary)}next: aipm --db ${redactDbUrl(store.path)} status demo\n      aipm --db ${redactDbUrl(store.path)} dashboard   (then open http://127.0.0.1:8088/)\n`);
        io.exitCode = summary.done ? 0 : 1;
        return { dir, db: redactDbUrl(store.path), import: imported, launch: report, summary };
      }, { create: true });
      if (args.json) emit(io, args, { ...result, import: { ...result.import, warnings: undefined } }, () => "");
    },
  );
}
